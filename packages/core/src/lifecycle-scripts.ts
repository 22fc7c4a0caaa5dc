/**
 * The Lua of the job lifecycle (see lifecycle.ts). Each script is one state change with
 * everything it implies: the status check, the record's writes, lane bookkeeping, and for
 * a terminal state its effects (usage ledger, quota reservation, output-cache entry, asset
 * records, cluster counters, the webhook outbox entry) and the publish. Redis runs a script
 * atomically, so either all of it happened or none did; and each answers a repeat (ioredis
 * resends a command left unanswered by a dropped connection) with "already done" (2)
 * instead of doing it twice.
 *
 * Record fields that are not part of the public Job start with `_` and hold plain strings:
 * `_attempt` (the current attempt's token), `_attempts` (every token, space separated),
 * `_reserve_us` (the quota reservation, micro GPU-seconds), `_day` (its UTC day).
 *
 * Retention (retention.ts): every script that creates or ends a record sets its TTL and its
 * entry in the sweeper's set of records (`S.expiry`); a success registers its file set with
 * the expiry of its files, or raises the expiry of the file set a cache hit points at.
 *
 * Keys other than the job's own are built inside the scripts from prefixes the caller
 * passes: clickvid runs on one Redis (or a primary with replicas), not a Redis Cluster.
 */

/** Shared helpers, prepended to every script. `S` is the decoded JSON spec (ARGV[1]). */
const LIB = `
local S = cjson.decode(ARGV[1])
local K = KEYS[1]

-- The public Job as JSON, assembled from the hash (every public field holds JSON already).
local function jobjson()
  local h = redis.call('HGETALL', K)
  local parts = {}
  for i = 1, #h, 2 do
    local f = h[i]
    if f ~= 'team' and f ~= 'lane' and string.sub(f, 1, 1) ~= '_' then
      parts[#parts + 1] = cjson.encode(f) .. ':' .. h[i + 1]
    end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- The change is appended to the team's event stream (GET /v1/events reads it, and resumes
-- from it by entry id), trimmed to the window and count, then announced on the channel
-- that wakes the SSE streams of every server. The event carries the job as it is now.
local function publish(status, evtype)
  local team = redis.call('HGET', K, 'team')
  local ev = S.ev_prefix .. team .. S.ev_suffix
  local data = '{"type":' .. cjson.encode(evtype) .. ',"created_at":' .. cjson.encode(S.now) .. ',"job":' .. jobjson() .. '}'
  local eid = redis.call('XADD', ev, 'MINID', '~', tostring(S.now_ms - S.ev_retain_ms), '*', 'type', evtype, 'data', data)
  redis.call('XTRIM', ev, 'MAXLEN', '~', S.ev_max)
  redis.call('PEXPIRE', ev, S.ev_retain_ms)
  local p = tonumber(cjson.decode(redis.call('HGET', K, 'progress') or '0')) or 0
  redis.call('PUBLISH', S.channel, cjson.encode({id = S.id, team = team, status = status, progress = p, event = eid}))
end

local function patch(fields)
  local args = {}
  for f, v in pairs(fields) do args[#args + 1] = f; args[#args + 1] = v end
  if #args > 0 then redis.call('HSET', K, unpack(args)) end
end

local function lanes_leave()
  local lane = cjson.decode(redis.call('HGET', K, 'lane'))
  redis.call('ZREM', S.lane_prefix .. lane .. ':queued', S.id)
  redis.call('ZREM', S.lane_prefix .. lane .. ':running', S.id)
  redis.call('ZREM', S.deadlines, S.id)
end

-- The record's lifetime: its TTL (a backstop) and its entry for the sweeper, which drops it,
-- its asset records and its index entry at S.expiry.drop_ms (releasing a reservation still held).
local function retain(team)
  redis.call('EXPIRE', K, S.expiry.ttl)
  redis.call('ZADD', S.retention_jobs, S.expiry.drop_ms, team .. ' ' .. S.id)
end

-- A hit points at another job's files: only while they are still kept (the sweeper has not
-- claimed them); files stored before keys carried the tier are not managed and always count.
local function hit_files_alive()
  if not S.hit_files or not S.hit_managed then return true end
  local score = tonumber(redis.call('ZSCORE', S.retention_files, S.hit_files))
  return score ~= nil and score > S.now_ms
end

-- A terminal state's effects, exactly once: called only by the transition that made it terminal.
local function effects(status)
  local team = redis.call('HGET', K, 'team')
  local day = redis.call('HGET', K, '_day') or S.day
  local ukey = S.usage_prefix .. team .. ':' .. day
  local reserved = tonumber(redis.call('HGET', K, '_reserve_us') or '0') or 0
  if reserved ~= 0 then
    redis.call('HINCRBY', ukey, 'reserved_us', -reserved)
    redis.call('HSET', K, '_reserve_us', '0')
  end
  if status == 'succeeded' then
    local f = S.ledger_field
    redis.call('HINCRBY', ukey, f .. 'jobs', 1)
    redis.call('HINCRBY', ukey, f .. 'gpu_us', S.gpu_us)
    redis.call('HINCRBY', ukey, f .. 'credits_u', S.credits_u)
    redis.call('HINCRBY', ukey, 'total_gpu_us', S.gpu_us)
    redis.call('EXPIRE', ukey, S.ledger_ttl)
    for _, a in ipairs(S.assets or {}) do redis.call('SET', a[1], a[2], 'EX', S.expiry.ttl) end
    if S.cache then redis.call('SET', S.cache[1], S.cache[2], 'EX', S.expiry.files_ttl) end
    -- Files kept until the latest expiry of the jobs that point at them (GT: a hit never shortens it).
    local set = S.files or (S.hit_managed and S.hit_files)
    if set then redis.call('ZADD', S.retention_files, 'GT', S.expiry.expires_ms, set) end
    redis.call('HSET', K, 'expires_at', cjson.encode(S.expiry.at))
  end
  retain(team)
  for _, m in ipairs(S.metrics or {}) do redis.call('HINCRBYFLOAT', S.metrics_key, m[1], m[2]) end
  local url = cjson.decode(redis.call('HGET', K, 'webhook_url') or 'null')
  if url ~= cjson.null and url ~= nil then
    local type = 'job.' .. status
    local payload = '{"type":' .. cjson.encode(type) .. ',"timestamp":' .. cjson.encode(S.now) .. ',"data":' .. jobjson() .. '}'
    redis.call('XADD', S.outbox, 'MAXLEN', '~', '1000000', '*',
      'event', 'evt_' .. string.sub(S.id, 5) .. '_' .. status, 'job', S.id, 'team', team, 'url', url, 'type', type, 'payload', payload,
      'trace', redis.call('HGET', K, '_trace') or '')
  end
  lanes_leave()
  publish(status, 'job.' .. status)
end
`;

const script = (body: string) => `${LIB}\n${body}`;

/**
 * accept: a new record (queued, or succeeded at once from the output cache). With a quota,
 * refuses (0, used µs) when billed + reserved + this estimate would pass it; otherwise
 * reserves the estimate on the record's UTC day. Answers (1, queue position or -1), or
 * (3, -1) for a hit whose files the sweeper has taken (the caller renders it instead).
 */
export const ACCEPT = script(`
local lane = S.lane
if redis.call('EXISTS', K) == 1 then
  return {2, redis.call('ZRANK', S.lane_prefix .. lane .. ':queued', S.id) or -1}
end
if S.done and not hit_files_alive() then return {3, -1} end
local ukey = S.usage_prefix .. S.team .. ':' .. S.day
if S.reserve_us > 0 and S.quota_us >= 0 then
  local used = (tonumber(redis.call('HGET', ukey, 'total_gpu_us') or '0') or 0) + (tonumber(redis.call('HGET', ukey, 'reserved_us') or '0') or 0)
  if used + S.reserve_us > S.quota_us then return {0, used} end
end
patch(S.fields)
redis.call('HSET', K, 'team', S.team, '_day', S.day, '_reserve_us', tostring(S.reserve_us))
retain(S.team)
redis.call('ZADD', S.team_index, 0, S.id)
-- The index lives as long as the records it points to: the sweeper removes each job's id with
-- its record; ids older than the longest record lifetime go here too (a lexical range, since
-- ids start with their time), and the key expires with its newest job.
redis.call('ZREMRANGEBYLEX', S.team_index, '-', '(' .. S.index_min_id)
redis.call('EXPIRE', S.team_index, S.index_ttl)
if S.reserve_us > 0 then
  redis.call('HINCRBY', ukey, 'reserved_us', S.reserve_us)
  redis.call('EXPIRE', ukey, S.ledger_ttl)
end
if S.done then
  effects('succeeded')
  return {1, -1}
end
redis.call('ZADD', S.lane_prefix .. lane .. ':queued', S.score, S.id)
if S.deadline_ms then redis.call('ZADD', S.deadlines, S.deadline_ms, S.id) end
publish('queued', 'job.queued')
return {1, redis.call('ZRANK', S.lane_prefix .. lane .. ':queued', S.id)}
`);

/** start: queued|running → running under a new attempt token; the old token is fenced off. Answers (code, record). */
export const START = script(`
local st = redis.call('HGET', K, 'status')
if not st then return {-1} end
if redis.call('HGET', K, '_attempt') == S.token then return {2, redis.call('HGETALL', K)} end
if st ~= '"queued"' and st ~= '"running"' then return {0, redis.call('HGETALL', K)} end
local all = redis.call('HGET', K, '_attempts')
local lane = cjson.decode(redis.call('HGET', K, 'lane'))
-- Started again while an attempt held it: its worker died or lost its lock (see false stalls).
if st == '"running"' and (redis.call('HGET', K, '_attempt') or '') ~= '' then
  redis.call('HINCRBYFLOAT', S.metrics_key, S.redelivered[lane], 1)
end
redis.call('HSET', K, 'status', '"running"', 'started_at', cjson.encode(S.now), 'queue_position', 'null',
  'attempts', tostring(S.attempt), '_attempt', S.token, '_attempts', (all and (all .. ' ') or '') .. S.token)
redis.call('ZREM', S.lane_prefix .. lane .. ':queued', S.id)
redis.call('ZADD', S.lane_prefix .. lane .. ':running', S.now_ms, S.id)
-- Started: the deadline (not started by then) is met, whatever happens next.
redis.call('ZREM', S.deadlines, S.id)
publish('running', 'job.running')
return {1, redis.call('HGETALL', K)}
`);

/** progress: only for the running attempt that holds the token. 1 = written; 0 = stop (canceled, superseded, gone). */
export const PROGRESS = script(`
if redis.call('HGET', K, 'status') ~= '"running"' or redis.call('HGET', K, '_attempt') ~= S.token then return 0 end
redis.call('HSET', K, 'progress', tostring(S.progress))
publish('running', 'job.progress')
return 1
`);

/**
 * finish: running (under this token) → succeeded | failed, with the effects. An empty token
 * (the reconciler, a BullMQ stall failure) ends a queued or running job under any attempt.
 * Answers (1) done now, (2) already done by this token, (0, status) not allowed, (-1) no record,
 * (3) a hit whose files the sweeper has taken (the attempt renders instead). On success also answers the tokens of the attempts that lost, whose files may go.
 */
export const FINISH = script(`
local st = redis.call('HGET', K, 'status')
if not st then return {-1} end
local cur = redis.call('HGET', K, '_attempt') or ''
local target = '"' .. S.status .. '"'
if st == target and (S.token == '' or cur == S.token) then return {2} end
if S.token == '' then
  if st ~= '"running"' and st ~= '"queued"' then return {0, st} end
elseif st ~= '"running"' or cur ~= S.token then
  return {0, st}
end
if not hit_files_alive() then return {3} end
patch(S.fields)
redis.call('HSET', K, 'status', target, 'finished_at', cjson.encode(S.now), 'queue_position', 'null')
effects(S.status)
return {1, redis.call('HGET', K, '_attempts') or ''}
`);

/**
 * cancel: queued|running → canceled, with the effects. Answers (1|2, record) or (0, record) when finished.
 * With S.expire (the deadline sweeper), only a job still queued is canceled, with S.fields (its error);
 * either way it leaves the deadline set.
 */
export const CANCEL = script(`
local st = redis.call('HGET', K, 'status')
if S.expire then
  redis.call('ZREM', S.deadlines, S.id)
  if st ~= '"queued"' then return {0} end
  patch(S.fields)
end
if not st then return {-1} end
if st == '"canceled"' then return {2, redis.call('HGETALL', K)} end
if st ~= '"queued"' and st ~= '"running"' then return {0, redis.call('HGETALL', K)} end
redis.call('HSET', K, 'status', '"canceled"', 'finished_at', cjson.encode(S.now), 'queue_position', 'null')
effects('canceled')
return {1, redis.call('HGETALL', K)}
`);

/** requeue: the running attempt gives its job back (a drain past its deadline). 1 = queued again. */
export const REQUEUE = script(`
if redis.call('HGET', K, 'status') ~= '"running"' or redis.call('HGET', K, '_attempt') ~= S.token then return 0 end
redis.call('HSET', K, 'status', '"queued"', 'progress', '0', '_attempt', '')
local lane = cjson.decode(redis.call('HGET', K, 'lane'))
redis.call('ZREM', S.lane_prefix .. lane .. ':running', S.id)
redis.call('ZADD', S.lane_prefix .. lane .. ':queued', S.now_ms, S.id)
publish('queued', 'job.queued')
return 1
`);
