#ifndef PATCHGAP_UTIL_CLOCK_H
#define PATCHGAP_UTIL_CLOCK_H

#include <time.h>

/* Monotonic seconds: for measuring phases and timeouts, never for dates. */
static inline double pg_clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
