"""A minimal FastAPI + Redis enqueue service, the kind a tutorial starts from.

Baseline for bench/submit-throughput.mjs. POST /v1/generate: the JSON body is parsed
and validated with pydantic (prompt, quality, seed), the bearer token is checked
against a Redis hash (sha256 of the key -> team), a job id is made, the job JSON is
stored in Redis and the id LPUSHed to a queue list; the answer is the job, 202.
Async endpoint with the asyncio Redis client (no blocking calls on the event loop).

Run (single process, as the tutorials show):
  BASELINE_REDIS_URL=redis://127.0.0.1:6379 BASELINE_API_KEY=secret \
    /usr/bin/python3 -m uvicorn fastapi_baseline:app --app-dir bench --port 8000
Debian packages: python3-fastapi python3-uvicorn python3-redis.
"""
import asyncio.base_events
import hashlib
import json
import os
import socket
import time
import uuid
from typing import Literal, Optional

import redis.asyncio as aioredis
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, Field

# uvicorn 0.17 with --workers binds its own socket as socket.socket(AF_INET): proto 0, so
# asyncio skips TCP_NODELAY on accepted connections and keep-alive responses stall ~40 ms
# on Nagle + delayed ACK. Set it whatever the proto (what single-process mode gets
# anyway), so --workers 2 is measured for its capacity, not that defect.
def _set_nodelay(sock):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


asyncio.base_events._set_nodelay = _set_nodelay

REDIS_URL = os.environ.get("BASELINE_REDIS_URL", "redis://127.0.0.1:6379")
API_KEY = os.environ.get("BASELINE_API_KEY")

app = FastAPI(title="baseline video queue")
r = aioredis.from_url(REDIS_URL, decode_responses=True)


class GenerateRequest(BaseModel):
    prompt: str = Field(..., min_length=1, max_length=500)
    quality: Literal["draft", "standard", "final"] = "draft"
    seed: Optional[int] = Field(None, ge=0, le=2**32 - 1)


@app.on_event("startup")
async def bootstrap() -> None:
    # Every worker process does this; HSET is idempotent.
    if API_KEY:
        await r.hset("api_keys", hashlib.sha256(API_KEY.encode()).hexdigest(), "team_dev")


@app.get("/healthz")
async def healthz():
    return {"ok": True}


@app.post("/v1/generate", status_code=202)
async def generate(req: GenerateRequest, authorization: Optional[str] = Header(None)):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401, detail="missing api key")
    team = await r.hget("api_keys", hashlib.sha256(authorization[7:].encode()).hexdigest())
    if team is None:
        raise HTTPException(status_code=401, detail="invalid api key")
    job_id = f"job_{uuid.uuid4().hex}"
    job = {
        "id": job_id,
        "object": "job",
        "status": "queued",
        "team": team,
        "prompt": req.prompt,
        "quality": req.quality,
        "seed": req.seed,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    await r.set(f"job:{job_id}", json.dumps(job))
    await r.lpush("queue:render", job_id)
    return job
