/*
 * schema_int.h - the database schema, by module.
 *
 * Each module owns a list of migrations: SQL scripts applied in order, the
 * index of the last applied one kept in meta as 'schema.<module>'.  A
 * migration is never edited once it has landed: add a new one instead, so
 * existing databases upgrade in place.  SQL here must stay portable to
 * PostgreSQL (INTEGER/TEXT/REAL, no AUTOINCREMENT, no WITHOUT ROWID).
 */
#ifndef PG_STORE_SCHEMA_INT_H
#define PG_STORE_SCHEMA_INT_H

#include <stddef.h>

struct pg_schema_module {
	const char *name;           /* meta key suffix: schema.<name> */
	const char *const *steps;   /* migrations, NULL-terminated */
};

/* NULL-terminated by name == NULL. */
extern const struct pg_schema_module pg_store__schema[];

#endif
