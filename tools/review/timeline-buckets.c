/* Aggregated timeline: beyond a few hundred marks individual events are
 * unreadable, so each lane shows TL_BUCKETS columns whose height grows with
 * the number of signal events in that slice of time, split in colours by
 * kind; the tooltip has the breakdown, and a red ring says the
 * slice holds violations. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "timeline.h"

#define NKIND (TOOL_K_HANDLE + 1)

struct bucket {
	long kinds[NKIND];
	long total, violations;
};

static const char *const kind_names[NKIND] = {
	[TOOL_K_OTHER] = "other", [TOOL_K_LIFECYCLE] = "lifecycle",
	[TOOL_K_INSTALL] = "install", [TOOL_K_MASK] = "mask", [TOOL_K_SEND] = "send",
	[TOOL_K_RECEIVE] = "received", [TOOL_K_FORWARD] = "forwarded",
	[TOOL_K_HANDLE] = "handled",
};

static int bucket_of(const struct tool_tl *tl, long long ts)
{
	int b = (int)((tool_tl_x(tl, ts) - TL_LEFT) * TL_BUCKETS / tl->plot_w);

	return b < 0 ? 0 : b >= TL_BUCKETS ? TL_BUCKETS - 1 : b;
}

static void fill(const struct tool_tl *tl, const struct tl_lane *l, struct bucket *b)
{
	memset(b, 0, TL_BUCKETS * sizeof *b);
	for (size_t i = 0; i < tl->nmarks; i++) {
		const struct tool_event *e = tl->marks[i];
		struct bucket *k;

		if (e->pid != l->proc->pid || e->tid != l->tid)
			continue;
		k = &b[bucket_of(tl, e->ts)];
		k->kinds[tool_event_kind(tool_ename(e))]++;
		k->total++;
		k->violations += tool_event_violation(tool_ev(e)) != NULL;
	}
}

/* One column stacks a segment per kind, in proportion to its count. */
static void segments(FILE *out, const struct bucket *b, double x, double y,
		     double w, double h)
{
	for (int k = 0; k < NKIND; k++) {
		double sh = h * (double)b->kinds[k] / (double)b->total;

		if (!b->kinds[k])
			continue;
		fprintf(out, "<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" "
			"fill=\"%s\"/>", x, y, w > 2 ? w - 1 : w, sh,
			tool_tl_color((enum tool_kind)k));
		y += sh;
	}
}

static void column(const struct tool_tl *tl, const struct tl_lane *l, int i,
		   const struct bucket *b, long max, FILE *out)
{
	double w = (double)tl->plot_w / TL_BUCKETS;
	double h = 3 + (TL_LANE_H - 8) * log1p((double)b->total) / log1p((double)max);
	double x = TL_LEFT + i * w;

	fprintf(out, "<g><title>%ld events:", b->total);
	for (int k = 0; k < NKIND; k++)
		if (b->kinds[k])
			fprintf(out, " %s %ld", kind_names[k], b->kinds[k]);
	if (b->violations)
		fprintf(out, ", %ld violations", b->violations);
	fprintf(out, "</title>");
	segments(out, b, x, l->y - h / 2, w, h);
	if (b->violations)
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"7\" fill=\"none\" "
			"stroke=\"#cf222e\" stroke-width=\"2\"/>", x + w / 2, l->y);
	fprintf(out, "</g>\n");
}

void tool_tl_render_buckets(const struct tool_tl *tl, FILE *out)
{
	struct bucket b[TL_BUCKETS];

	for (size_t li = 0; li < tl->nlanes; li++) {
		long max = 1;

		fill(tl, &tl->lanes[li], b);
		for (int i = 0; i < TL_BUCKETS; i++)
			max = b[i].total > max ? b[i].total : max;
		for (int i = 0; i < TL_BUCKETS; i++)
			if (b[i].total)
				column(tl, &tl->lanes[li], i, &b[i], max, out);
	}
}
