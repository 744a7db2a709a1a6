/* Timeline drawing: plain SVG 1.1 with <title> tooltips, no scripts and no
 * external fonts, so it renders the same in browsers, rsvg and CI artifact
 * viewers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "timeline.h"

static const struct {
	enum tool_kind kind;
	const char *color, *label;
} styles[] = {
	{TOOL_K_INSTALL, "#2da44e", "install handler"},
	{TOOL_K_MASK, "#8c959f", "mask change"},
	{TOOL_K_SEND, "#0969da", "send"},
	{TOOL_K_RECEIVE, "#d4a72c", "received"},
	{TOOL_K_FORWARD, "#8250df", "forwarded"},
	{TOOL_K_HANDLE, "#1a7f37", "handled"},
};

const char *tool_tl_color(enum tool_kind k)
{
	for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++)
		if (styles[i].kind == k)
			return styles[i].color;
	return "#57606a";
}

/* Each kind gets its own shape as well as colour, for colour-blind readers
 * and for grey-scale prints. */
static void shape(FILE *out, enum tool_kind k, double x, int y)
{
	const char *c = tool_tl_color(k);

	switch (k) {
	case TOOL_K_INSTALL:
		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"9\" height=\"9\" fill=\"%s\"/>",
			x - 4.5, y - 4, c);
		break;
	case TOOL_K_SEND:
		fprintf(out, "<path d=\"M%.1f,%d l9,5 l-9,5 z\" fill=\"%s\"/>", x - 4.5, y - 5, c);
		break;
	case TOOL_K_FORWARD:
		fprintf(out, "<path d=\"M%.1f,%d l5,5 l-5,5 l-5,-5 z\" fill=\"%s\"/>", x, y - 5, c);
		break;
	case TOOL_K_HANDLE:
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"4\" fill=\"white\" "
			"stroke=\"%s\" stroke-width=\"2.5\"/>", x, y, c);
		break;
	case TOOL_K_MASK:
		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"2\" height=\"12\" fill=\"%s\"/>",
			x - 1, y - 6, c);
		break;
	default:
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"4.5\" fill=\"%s\"/>", x, y, c);
	}
}

static void header(const struct tool_tl *tl, FILE *out)
{
	int w = TL_LEFT + tl->plot_w + 40;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, "
		"sans-serif\" font-size=\"11\">\n", w, tl->height, w, tl->height);
	fprintf(out, "<defs><marker id=\"arr\" markerWidth=\"8\" markerHeight=\"8\" "
		"refX=\"7\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" "
		"fill=\"#0969da\"/></marker><marker id=\"fwd\" markerWidth=\"8\" "
		"markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\"><path "
		"d=\"M0,0 L8,4 L0,8 z\" fill=\"#8250df\"/></marker></defs>\n");
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, tl->height);
	fprintf(out, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">"
		"sigaudit timeline: %zu process%s, %zu events, %zu signal events%s</text>\n",
		tl->ls->nprocs, tl->ls->nprocs == 1 ? "" : "es", tl->ls->n, tl->nmarks,
		tl->aggregate ? " (aggregated per time bucket)" : "");
}

/* Tick labels in a unit that suits the span, so they stay short. */
static void tick_label(char *buf, size_t len, double ns, double span)
{
	if (span < 1e4)
		snprintf(buf, len, "%.0f ns", ns);
	else if (span < 1e7)
		snprintf(buf, len, "%.1f \xc2\xb5s", ns / 1e3);
	else if (span < 1e10)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.1f s", ns / 1e9);
}

static void axis(const struct tool_tl *tl, FILE *out)
{
	double span = (double)tl->tmax - (double)tl->tmin;
	char label[64];

	int y = TL_TOP - 14;

	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#24292f\"/>\n",
		TL_LEFT, y, TL_LEFT + tl->plot_w, y);
	for (int i = 0; i <= 10; i++) {
		double x = TL_LEFT + tl->plot_w * i / 10.0;
		double ns = ((double)tl->tmin - (double)tl->ls->t0) + span * i / 10.0;

		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"#24292f\"/><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
			"y2=\"%d\" stroke=\"#eaeef2\"/>", x, y - 4, x, y + 4, x, y + 6, x,
			tl->height - 90);
		tick_label(label, sizeof label, ns, span);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
			"fill=\"#57606a\">%s</text>\n", x, y - 8, label);
	}
}

static void proc_header(const struct tool_tl *tl, const struct tl_lane *l, FILE *out)
{
	const struct tool_proc *p = l->proc;
	const char *argv0 = p->start ? tool_json_str(p->start, "argv0") : NULL;
	int y = l->y - TL_LANE_H / 2 - TL_PROC_H;

	fprintf(out, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f6f8fa\"/>",
		y, TL_LEFT + tl->plot_w + 40, TL_PROC_H);
	fprintf(out, "<text x=\"8\" y=\"%d\" font-weight=\"bold\">process %lld ", y + 16,
		p->pid);
	tool_xml_escape(out, argv0 ?: "");
	fprintf(out, "%s</text>\n", p->exit ? "" : "  (log ended abnormally)");
}

static void lane(const struct tool_tl *tl, const struct tl_lane *l, FILE *out)
{
	char label[128];

	if (l->first_of_proc)
		proc_header(tl, l, out);
	/* The pthread_t is long: it goes in the tooltip, not the margin. */
	fprintf(out, "<g><title>%s</title><text x=\"20\" y=\"%d\">tid %lld%s</text></g>",
		tool_thread_label(l->proc, l->tid, label, sizeof label), l->y + 4,
		l->tid, l->tid == l->proc->pid ? " (main)" : "");
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eaeef2\"/>",
		TL_LEFT, l->y, TL_LEFT + tl->plot_w, l->y);
	if (l->t_first <= l->t_last)
		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"#8c959f\" stroke-width=\"2\"/>\n", tool_tl_x(tl, l->t_first),
			l->y, tool_tl_x(tl, l->t_last) + 0.5, l->y);
}

static void mark(const struct tool_tl *tl, const struct tool_event *e, FILE *out)
{
	const struct tl_lane *l = tool_tl_lane(tl, e->pid, e->tid);
	const char *v = tool_event_violation(tool_ev(e));
	char brief[1024];
	double x = tool_tl_x(tl, e->ts);

	json_t *ev = tool_event_load(e);    /* the title shows every field */

	tool_event_brief(ev ? ev : tool_ev(e), brief, sizeof brief);
	json_decref(ev);
	fprintf(out, "<g><title>+%.6fs pid %d tid %d seq %lld %s ",
		tool_ns_diff_s(e->ts, tl->ls->t0), e->pid, e->tid, e->seq, tool_ename(e));
	tool_xml_escape(out, brief);
	fputs("</title>", out);
	shape(out, tool_event_kind(tool_ename(e)), x, l->y);
	if (v)
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"9\" fill=\"none\" "
			"stroke=\"#cf222e\" stroke-width=\"2\"/><text x=\"%.1f\" y=\"%d\" "
			"fill=\"#cf222e\" font-size=\"10\">", x, l->y, x + 11, l->y - 7);
	if (v) {
		tool_xml_escape(out, v);
		fputs("</text>", out);
	}
	fprintf(out, "</g>\n");
}

static void arrow(const struct tool_tl *tl, const struct tl_arrow *a, FILE *out)
{
	const struct tl_lane *from = tool_tl_lane(tl, a->from->pid, a->from->tid);
	const struct tl_lane *to;
	long long to_tid = a->to->tid;

	if (a->forward)
		tool_json_int(tool_ev(a->from), "to_tid", &to_tid);
	to = tool_tl_lane(tl, a->to->pid, to_tid);
	if (!from || !to || from == to)
		return;   /* same lane: the marks sit side by side already */
	fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
		"stroke-opacity=\"0.6\" stroke-width=\"1.2\" marker-end=\"url(#%s)\"/>\n",
		tool_tl_x(tl, a->from->ts), from->y, tool_tl_x(tl, a->to->ts),
		to->y + (to->y > from->y ? -6 : 6), a->forward ? "#8250df" : "#0969da",
		a->forward ? "fwd" : "arr");
}

static void legend(const struct tool_tl *tl, FILE *out)
{
	int y = tl->height - 50;
	double x = TL_LEFT;

	for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++, x += 120) {
		shape(out, styles[i].kind, x, y);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>", x + 10, y + 4,
			styles[i].label);
	}
	fprintf(out, "<circle cx=\"%.1f\" cy=\"%d\" r=\"8\" fill=\"none\" stroke=\"#cf222e\" "
		"stroke-width=\"2\"/><text x=\"%.1f\" y=\"%d\">violation</text>\n",
		x, y, x + 12, y + 4);
	fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#57606a\">%s</text>\n", TL_LEFT, y + 28,
		tl->aggregate ? "columns: signal events per time bucket, split by kind, "
		"taller for more events; hover a column for its counts" :
		"arrows: send to the delivery it most likely caused (best-effort match "
		"by signal, target and time); hover a mark for the event");
}

void tool_tl_render(const struct tool_tl *tl, FILE *out)
{
	header(tl, out);
	axis(tl, out);
	for (size_t i = 0; i < tl->nlanes; i++)
		lane(tl, &tl->lanes[i], out);
	if (tl->aggregate)
		tool_tl_render_buckets(tl, out);
	else {
		for (size_t i = 0; i < tl->narrows; i++)
			arrow(tl, &tl->arrows[i], out);
		for (size_t i = 0; i < tl->nmarks; i++)
			mark(tl, tl->marks[i], out);
	}
	legend(tl, out);
	fprintf(out, "</svg>\n");
}
