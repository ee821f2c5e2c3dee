/*
 * report_out.h - a report (report.h) written out: a text table, CSV,
 * JSON (doc/maildesk.8, REPORT, documents the shapes), and the context
 * the agent-report template renders for the leads' digest.
 */
#ifndef MD_REPORT_OUT_H
#define MD_REPORT_OUT_H

#include <json-glib/json-glib.h>

#include "report.h"

/* Readable tables.  Caller frees with g_free(). */
char *report_out_text(const MdReport *r);

/*
 * One CSV table (RFC 4180) with a header row: section, queue, priority,
 * agent, date, metric, value; one figure a row.  Caller frees.
 */
char *report_out_csv(const MdReport *r);

/* One object.  Caller frees with json_node_unref(). */
JsonNode *report_out_json(const MdReport *r);

/* "report" of the agent-report template: the figures as text, the
 * widths (per cent) of the bar charts' cells.  Caller unrefs. */
JsonObject *report_out_context(const MdReport *r);

/* "2026-11-16T00:00:00Z/2026-11-23T00:00:00Z": a period as ISO 8601. Caller frees. */
char *report_out_period(const MdReport *r);

#endif
