/* Timeline layout (timeline-layout.c) and SVG drawing (timeline-svg.c). */
#ifndef SIGSHIM_TIMELINE_H
#define SIGSHIM_TIMELINE_H

#include "sigaudit.h"

#define TL_LEFT 160             /* lane labels */
#define TL_TOP 70               /* title and time axis */
#define TL_LANE_H 30
#define TL_PROC_H 24            /* process header row */
#define TL_BUCKETS 120

struct tl_lane {
	const struct tool_proc *proc;
	long long tid;
	int y;                  /* centre line */
	bool first_of_proc;
	long long t_first, t_last;
};

struct tl_arrow {
	const struct tool_event *from, *to;
	bool forward;           /* forwarded from one thread to another */
};

struct tool_tl {
	size_t max_marks;
	int plot_w;
	const struct tool_logset *ls;
	struct tl_lane *lanes;
	size_t nlanes;
	const struct tool_event **marks;
	size_t nmarks;
	struct tl_arrow *arrows;
	size_t narrows;
	long long tmin, tmax;
	bool aggregate;
	int height;
};

void tool_tl_layout(struct tool_tl *tl, const struct tool_logset *ls);
void tool_tl_free(struct tool_tl *tl);
void tool_tl_render(const struct tool_tl *tl, FILE *out);
/* Lane of an event's (pid, tid), or NULL. */
const struct tl_lane *tool_tl_lane(const struct tool_tl *tl, long long pid, long long tid);
double tool_tl_x(const struct tool_tl *tl, long long ts);
bool tool_tl_is_mark(const struct tool_event *e);
/* Aggregated drawing, for more marks than --max-events (timeline-buckets.c). */
void tool_tl_render_buckets(const struct tool_tl *tl, FILE *out);
/* Kind colours and shapes shared by both drawings (timeline-svg.c). */
const char *tool_tl_color(enum tool_kind k);

#endif
