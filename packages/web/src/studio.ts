import type { AspectRatio, Clickvid, GenerateParams, Job, ModelInfo, Quality } from '@clickvid/sdk/browser';
import { $, announce, fill, h } from './dom.js';
import { errorView } from './errors.js';
import type { JobFeed } from './live.js';

type Check = Awaited<ReturnType<Clickvid['prompts']['check']>>;

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** The generate form and the watch panel: submit, follow, edit, promote, cancel, download. */
export class Studio {
  private readonly prompt = $<HTMLTextAreaElement>('prompt');
  private readonly quality = $<HTMLSelectElement>('quality');
  private readonly duration = $<HTMLInputElement>('duration');
  private readonly aspect = $<HTMLSelectElement>('aspect');
  private readonly seed = $<HTMLInputElement>('seed');
  private readonly campaign = $<HTMLInputElement>('campaign');
  /** The job being edited (`from_job` of the next submit). */
  private editing: Job | null = null;
  /** The job in the watch panel, and the final made from it (shown beside it). */
  private current: Job | null = null;
  private final: Job | null = null;
  private checkTimer: ReturnType<typeof setTimeout> | null = null;
  private checkSeq = 0;

  constructor(
    private readonly client: Clickvid,
    private readonly model: ModelInfo,
    private readonly feed: JobFeed,
    private readonly changed: () => void,
  ) {
    for (const t of model.tiers) this.quality.append(h('option', { text: t.quality, attrs: { value: t.quality } }));
    for (const a of model.aspect_ratios) this.aspect.append(h('option', { text: a, attrs: { value: a } }));
    this.quality.addEventListener('change', () => this.tierDefaults());
    this.tierDefaults();
    this.prompt.addEventListener('input', () => {
      this.suggest();
      this.scheduleCheck();
    });
    for (const el of [this.quality, this.duration, this.aspect, this.seed]) el.addEventListener('change', () => this.scheduleCheck());
    $('new-seed').addEventListener('click', () => {
      this.seed.value = String(crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1);
      this.scheduleCheck();
    });
    $('gen-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    feed.on((job) => this.update(job));
    this.suggest();
  }

  /** Shows a job (from the history) in the watch panel, with its final beside it when it has one. */
  async open(job: Job): Promise<void> {
    this.current = job;
    this.final = null;
    this.render();
    this.follow(job);
    await this.loadLineage(job);
    $('watch').scrollIntoView({ block: 'start' });
  }

  private tierDefaults(): void {
    const tier = this.model.tiers.find((t) => t.quality === this.quality.value);
    if (tier) {
      this.duration.value = String(tier.duration_s);
      this.duration.max = String(tier.max_duration_s);
    }
  }

  /** The vocabulary words that complete the word being typed (all of them, before typing). */
  private suggest(): void {
    const partial = /([a-z]*)$/i.exec(this.prompt.value)?.[1]?.toLowerCase() ?? '';
    const words = this.model.vocabulary.filter((w) => w.startsWith(partial) && w !== partial).slice(0, 14);
    fill(
      $('suggest'),
      ...words.map((w) =>
        h('button', {
          text: w,
          class: 'chip',
          attrs: { type: 'button', 'aria-label': `add the word ${w}` },
          on: {
            click: () => {
              this.prompt.value = `${this.prompt.value.slice(0, this.prompt.value.length - partial.length)}${w} `;
              this.prompt.focus();
              this.suggest();
              this.scheduleCheck();
            },
          },
        }),
      ),
    );
  }

  private settings(): { quality: Quality; duration_s?: number; aspect_ratio: AspectRatio; seed?: number } {
    const duration = Number(this.duration.value);
    const seed = this.seed.value.trim() === '' ? undefined : Number(this.seed.value);
    return {
      quality: this.quality.value as Quality,
      ...(this.duration.value && Number.isFinite(duration) ? { duration_s: duration } : {}),
      aspect_ratio: this.aspect.value as AspectRatio,
      ...(seed !== undefined && Number.isInteger(seed) ? { seed } : {}),
    };
  }

  private scheduleCheck(): void {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => void this.check(), 300);
  }

  /** The server's dry run of this submit: estimate, unknown words, warnings, refusal. */
  private async check(): Promise<Check | null> {
    const prompt = this.prompt.value.trim();
    const seq = ++this.checkSeq;
    if (!prompt) {
      fill($('check'));
      return null;
    }
    try {
      const c = await this.client.prompts.check({ prompt, ...this.settings() });
      if (seq === this.checkSeq) this.showCheck(c);
      return c;
    } catch (err) {
      if (seq === this.checkSeq) fill($('check'), errorView(err));
      return null;
    }
  }

  private showCheck(c: Check): void {
    const unknown = new Set(c.unknown);
    const words = c.prompt.split(/(\s+)/);
    fill(
      $('check'),
      h(
        'p',
        { class: 'words', attrs: { 'aria-label': 'How the model reads the prompt' } },
        ...words.map((w) => {
          const bare = w.toLowerCase().replace(/[^a-z0-9]/g, '');
          return bare && unknown.has(bare) ? h('mark', { class: 'unknown', text: w, attrs: { title: 'The model does not know this word' } }) : w;
        }),
      ),
      c.unknown.length > 0 && h('p', { class: 'unknown-list' }, 'Unknown words: ', c.unknown.join(', ')),
      ...c.warnings.map((w) => h('p', { class: 'warning', text: w })),
      c.refused && c.error && h('div', { class: 'refusal' }, h('code', { text: c.error.code }), ' ', c.error.message),
      h(
        'p',
        { class: 'estimate muted' },
        `${c.quality} ${c.params.width}×${c.params.height}, ${c.params.frames} frames at ${c.params.fps} fps: about ${short(c.estimate.gpu_seconds)} GPU-s, ${short(c.estimate.credits)} credits`,
      ),
    );
  }

  private async submit(): Promise<void> {
    const button = $<HTMLButtonElement>('submit');
    fill($('error'));
    const prompt = this.prompt.value.trim();
    if (!prompt && !this.editing) {
      fill($('error'), h('p', { text: 'Type a prompt first.' }));
      this.prompt.focus();
      return;
    }
    button.disabled = true;
    try {
      // The dry run first: a refusal shows here, with the vocabulary, instead of a failed job.
      const c = prompt ? await this.client.prompts.check({ prompt, ...this.settings() }) : null;
      if (c) this.showCheck(c);
      if (c?.refused) {
        announce('The prompt was refused; see why under the prompt.');
        return;
      }
      const campaign = this.campaign.value.trim();
      const params: GenerateParams = {
        ...(prompt ? { prompt } : {}),
        ...this.settings(),
        ...(campaign ? { metadata: { campaign } } : {}),
        ...(this.editing ? { from_job: this.editing.id } : {}),
      };
      const job = await this.client.jobs.create(params);
      this.stopEditing();
      this.current = job;
      this.final = null;
      this.render();
      this.follow(job);
      announce(`Job ${job.id} queued.`);
      this.changed();
    } catch (err) {
      fill($('error'), errorView(err));
      announce('The request failed; the error is shown under the form.');
    } finally {
      button.disabled = false;
    }
  }

  private follow(job: Job): void {
    if (!TERMINAL.has(job.status)) this.feed.watch(job.id);
  }

  private update(job: Job): void {
    let hit = false;
    if (this.current?.id === job.id) {
      this.current = job;
      hit = true;
    }
    if (this.final?.id === job.id) {
      this.final = job;
      hit = true;
    }
    this.children = this.children.map((c) => (c.id === job.id ? job : c));
    if (!hit) return;
    this.render();
    if (TERMINAL.has(job.status)) {
      announce(`Job ${job.id} ${job.status}.`);
      this.changed();
    }
  }

  /** A job's parent and children (promotions, edits), so a reload finds a draft's final. */
  private async loadLineage(job: Job): Promise<void> {
    try {
      const children = (await this.client.jobs.list({ parent: job.id, limit: 20 })).data;
      if (this.current?.id !== job.id) return;
      const final = children.find((c) => c.quality === 'final');
      if (final && job.quality !== 'final') {
        this.final = final;
        this.follow(final);
      }
      this.render(children);
    } catch (err) {
      fill($('error'), errorView(err));
    }
  }

  private children: Job[] = [];

  private render(children?: Job[]): void {
    if (children) this.children = children;
    const job = this.current;
    if (!job) return;
    // With a final beside it, the draft plays in the pair below, not twice.
    fill($('current'), this.jobCard(job, 'current', false, !this.final));
    const compare = $('compare');
    compare.hidden = !this.final;
    if (this.final) {
      fill(
        compare,
        h('h3', { text: 'Draft and final' }),
        h('div', { class: 'pair' }, this.jobCard(job, 'draft-side', true), this.jobCard(this.final, 'final-side', true)),
      );
    }
  }

  private jobCard(job: Job, role: string, compact = false, withVideo = true): HTMLElement {
    const running = job.status === 'queued' || job.status === 'running';
    const card = h(
      'article',
      { class: `job ${role}`, attrs: { 'data-job-id': job.id, 'data-quality': job.quality, 'data-status': job.status, 'aria-label': `${job.quality} job ${job.id}` } },
      h('p', { class: 'job-head' }, h('strong', { text: job.quality }), ' ', h('code', { text: job.id }), ' ', h('span', { class: `status s-${job.status}`, text: job.status })),
      h('p', { class: 'prompt', text: job.prompt }),
      running &&
        h(
          'p',
          { class: 'progress' },
          job.queue_position !== null ? `Queue position ${job.queue_position + 1}. ` : '',
          h('progress', { attrs: { max: 1, value: job.progress, 'aria-label': 'progress' } }),
          ` ${Math.round(job.progress * 100)} %`,
        ),
      h(
        'p',
        { class: 'flags' },
        job.degraded && h('span', { class: 'flag degraded', text: 'degraded (fewer frames: the queue was busy)' }),
        job.cache_hit && h('span', { class: 'flag cache', text: 'cache hit (free)' }),
        job.metadata.campaign !== undefined && h('span', { class: 'flag campaign' }, 'campaign: ', job.metadata.campaign),
      ),
      ...job.warnings.map((w) => h('p', { class: 'warning', text: w })),
      job.error && h('p', { class: 'err' }, h('code', { text: job.error.code }), ' ', job.error.message),
      withVideo &&
        job.urls &&
        h('video', {
          class: 'clip',
          attrs: {
            src: job.urls.video,
            poster: job.urls.poster,
            width: job.params.width,
            height: job.params.height,
            autoplay: true,
            loop: true,
            muted: true,
            playsinline: true,
            controls: true,
            'data-quality': job.quality,
            'aria-label': `${job.quality} clip: ${job.prompt}`,
          },
        }),
      h(
        'p',
        { class: 'meta muted' },
        `${job.params.width}×${job.params.height}, ${job.params.frames} frames, ${job.params.fps} fps, seed ${job.params.seed}`,
        job.usage ? `, ${short(job.usage.credits)} credits` : `, about ${short(job.estimate.credits)} credits`,
      ),
    );
    const video = card.querySelector('video');
    // `muted` as an attribute is not enough for autoplay everywhere; the property is.
    if (video) video.muted = true;
    if (!compact) card.append(this.actions(job), this.lineage(job));
    else card.append(h('div', { class: 'actions' }, this.downloadButton(job)));
    return card;
  }

  private actions(job: Job): HTMLElement {
    const running = job.status === 'queued' || job.status === 'running';
    return h(
      'div',
      { class: 'actions' },
      h('button', { text: 'Edit', attrs: { type: 'button', 'data-action': 'edit' }, on: { click: () => this.edit(job) } }),
      job.quality !== 'final' &&
        (job.status === 'succeeded' || running) &&
        h('button', { text: 'Promote to final', attrs: { type: 'button', 'data-action': 'promote' }, on: { click: () => void this.promote(job) } }),
      running && h('button', { text: 'Cancel', attrs: { type: 'button', 'data-action': 'cancel' }, on: { click: () => void this.cancel(job) } }),
      this.downloadButton(job),
    );
  }

  private downloadButton(job: Job): HTMLElement | null {
    if (job.status !== 'succeeded' || !job.assets) return null;
    return h('button', {
      text: 'Download',
      attrs: { type: 'button', 'data-action': 'download', 'aria-label': `Download the ${job.quality} MP4` },
      on: { click: () => void this.download(job) },
    });
  }

  private lineage(job: Job): HTMLElement {
    const open = (id: string) => () => void this.client.jobs.retrieve(id).then((j) => this.open(j), (err) => fill($('error'), errorView(err)));
    return h(
      'div',
      { class: 'lineage' },
      job.parent_job_id && h('p', {}, 'Made from ', h('button', { class: 'link', text: job.parent_job_id, attrs: { type: 'button' }, on: { click: open(job.parent_job_id) } })),
      this.children.length > 0 &&
        h(
          'p',
          {},
          'Made from this: ',
          ...this.children.map((c) => h('button', { class: 'link', text: `${c.quality} ${c.id} (${c.status})`, attrs: { type: 'button' }, on: { click: open(c.id) } })),
        ),
    );
  }

  /** "Edit": the form takes the job's prompt and settings; the next submit is `from_job` it, seed kept. */
  private edit(job: Job): void {
    this.editing = job;
    this.prompt.value = job.prompt;
    this.quality.value = job.quality;
    this.duration.value = String(job.params.duration_s);
    this.aspect.value = job.params.aspect_ratio;
    this.seed.value = String(job.params.seed);
    this.campaign.value = job.metadata.campaign ?? '';
    const note = $('editing');
    fill(
      note,
      'Editing ',
      h('code', { text: job.id }),
      ' (seed kept). ',
      h('button', { text: 'Start fresh', attrs: { type: 'button' }, on: { click: () => this.stopEditing() } }),
    );
    note.hidden = false;
    this.suggest();
    this.scheduleCheck();
    this.prompt.focus();
  }

  private stopEditing(): void {
    this.editing = null;
    $('editing').hidden = true;
  }

  private async promote(job: Job): Promise<void> {
    fill($('error'));
    try {
      const final = await this.client.jobs.promote(job.id, { quality: 'final' });
      this.current = job;
      this.final = final;
      this.children = [...this.children.filter((c) => c.id !== final.id), final];
      this.render();
      this.follow(final);
      announce(`Final ${final.id} queued beside its draft.`);
      this.changed();
    } catch (err) {
      fill($('error'), errorView(err));
    }
  }

  private async cancel(job: Job): Promise<void> {
    fill($('error'));
    try {
      this.update(await this.client.jobs.cancel(job.id));
    } catch (err) {
      fill($('error'), errorView(err));
    }
  }

  /** Saves the MP4: a URL signed to answer as an attachment, so a cross-origin store works too. */
  private async download(job: Job): Promise<void> {
    try {
      const asset = await this.client.assets.retrieve(job.assets!.video, { download: true });
      const a = h('a', { attrs: { href: asset.url, download: `${job.id}.mp4`, hidden: true } });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      fill($('error'), errorView(err));
    }
  }
}

/** A figure to three significant digits. */
function short(n: number): string {
  return n === 0 ? '0' : String(Number(n.toPrecision(3)));
}
