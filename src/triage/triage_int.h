/*
 * triage_int.h - between the decision ledger (decision.c) and the request
 * checks that need no database (request.c, also built into fuzz targets).
 */
#ifndef PG_TRIAGE_INT_H
#define PG_TRIAGE_INT_H

/* 1 when s has no control bytes (newline and tab allowed when multiline). */
int pg_triage__clean_text(const char *s, int multiline);

#endif
