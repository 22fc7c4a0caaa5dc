import type { Clickvid, Job, JobListParams } from '@clickvid/sdk/browser';
import { $, fill, h } from './dom.js';
import { errorView } from './errors.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'];
const QUALITIES = ['draft', 'standard', 'final'];
/** A sparse filter can give empty pages that still have a cursor: follow at most this many per scroll. */
const MAX_EMPTY_PAGES = 10;

/** The team's jobs as a poster grid, newest first, filtered, loaded page by page as it scrolls. */
export class History {
  onOpen: (job: Job) => void = () => undefined;
  private cursor: string | null = null;
  private done = false;
  private loading = false;
  private generation = 0;
  private readonly grid = $('grid');
  private readonly status = $<HTMLSelectElement>('f-status');
  private readonly quality = $<HTMLSelectElement>('f-quality');
  private readonly campaign = $<HTMLInputElement>('f-campaign');

  constructor(private readonly client: Clickvid) {
    for (const s of STATUSES) this.status.append(h('option', { text: s, attrs: { value: s } }));
    for (const q of QUALITIES) this.quality.append(h('option', { text: q, attrs: { value: q } }));
    let t: ReturnType<typeof setTimeout> | null = null;
    const changed = () => {
      if (t) clearTimeout(t);
      t = setTimeout(() => this.reload(), 250);
    };
    this.status.addEventListener('change', changed);
    this.quality.addEventListener('change', changed);
    this.campaign.addEventListener('input', changed);
    $('filters').addEventListener('submit', (ev) => ev.preventDefault());
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void this.more();
    }, { rootMargin: '400px' }).observe($('sentinel'));
  }

  reload(): void {
    this.generation++;
    this.cursor = null;
    this.done = false;
    this.loading = false;
    fill(this.grid);
    fill($('grid-end'));
    void this.more();
  }

  private filters(): JobListParams {
    const campaign = this.campaign.value.trim();
    return {
      ...(this.status.value ? { status: this.status.value as JobListParams['status'] } : {}),
      ...(this.quality.value ? { quality: this.quality.value as JobListParams['quality'] } : {}),
      ...(campaign ? { campaign } : {}),
      limit: 24,
    };
  }

  private async more(): Promise<void> {
    if (this.loading || this.done) return;
    this.loading = true;
    const gen = this.generation;
    try {
      for (let empty = 0; empty < MAX_EMPTY_PAGES; empty++) {
        const page = await this.client.jobs.list({ ...this.filters(), ...(this.cursor ? { cursor: this.cursor } : {}) });
        if (gen !== this.generation) return;
        for (const job of page.data) this.grid.append(this.tile(job));
        this.cursor = page.next_cursor;
        if (!this.cursor) {
          this.done = true;
          fill($('grid-end'), this.grid.childElementCount === 0 ? 'No jobs match.' : 'That is all.');
          break;
        }
        if (page.data.length > 0) break;
      }
    } catch (err) {
      if (gen === this.generation) fill($('grid-end'), errorView(err));
    } finally {
      if (gen === this.generation) this.loading = false;
    }
    // Still at the bottom (a tall screen, or a page of few matches): keep going.
    if (gen === this.generation && !this.done && isVisible($('sentinel'))) void this.more();
  }

  private tile(job: Job): HTMLElement {
    const label = `${job.quality} ${job.status}: ${job.prompt}`;
    return h(
      'li',
      { attrs: { 'data-job-id': job.id } },
      h(
        'button',
        { class: 'tile', attrs: { type: 'button', 'aria-label': `Open ${label}` }, on: { click: () => this.onOpen(job) } },
        job.urls
          ? h('img', { attrs: { src: job.urls.poster, alt: '', width: job.params.width, height: job.params.height, loading: 'lazy', decoding: 'async' } })
          : h('span', { class: `placeholder s-${job.status}`, text: job.status }),
        h('span', { class: 'tile-text' }, h('strong', { text: job.quality }), ' ', job.prompt),
        job.metadata.campaign !== undefined && h('span', { class: 'tile-campaign', text: job.metadata.campaign }),
      ),
    );
  }
}

function isVisible(el: HTMLElement): boolean {
  const r = el.getBoundingClientRect();
  return r.top < innerHeight + 400;
}
