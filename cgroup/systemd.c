/* SPDX-License-Identifier: MIT */
/*
 * systemd.c - a transient scope from the systemd user manager (or, for
 * usbox-oci as root, the system manager), over D-Bus.
 *
 * libsystemd is opened with dlopen() only here, when a limit is asked for and
 * a user manager is reachable: linking it would make every start pay for
 * loading it and its compression and crypto libraries.
 */
#include "cgroup.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define SD_FUNCS(X)                        \
	X(sd_bus_open_user)                \
	X(sd_bus_open_system)              \
	X(sd_bus_flush_close_unref)        \
	X(sd_bus_message_new_method_call)  \
	X(sd_bus_message_append)           \
	X(sd_bus_message_open_container)   \
	X(sd_bus_message_close_container)  \
	X(sd_bus_message_unref)            \
	X(sd_bus_message_read)             \
	X(sd_bus_call)                     \
	X(sd_bus_match_signal_async)       \
	X(sd_bus_process)                  \
	X(sd_bus_wait)                     \
	X(sd_bus_error_free)

struct sd_api {
#define FIELD(name) __typeof__(name) *name;
	SD_FUNCS(FIELD)
#undef FIELD
};

/* Loads libsystemd.  Return: 0 or -ENOENT. */
static int sd_load(struct sd_api *api)
{
	void *lib = dlopen("libsystemd.so.0", RTLD_LAZY | RTLD_LOCAL);
	if (!lib)
		return -ENOENT;
#define LOAD(name)                                                       \
	if (!(api->name = (__typeof__(name) *)dlsym(lib, #name))) { \
		dlclose(lib);                                            \
		return -ENOENT;                                          \
	}
	SD_FUNCS(LOAD)
#undef LOAD
	return 0;
}

struct job_wait {
	struct sd_api *api;
	const char *path; /* the job to wait for */
	char result[32];  /* "done", "failed", ...; "" while pending */
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct job_wait *w = userdata;
	uint32_t id;
	const char *path, *unit, *result;
	(void)err;
	if (w->api->sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && strcmp(path, w->path) == 0)
		snprintf(w->result, sizeof(w->result), "%s", result);
	return 0;
}

/* Appends StartTransientUnit's properties: this process, delegation, the
 * slice (when @slice is not ""), and removal once the scope ends, even when
 * it failed. */
static int append_properties(struct sd_api *api, sd_bus_message *m, const char *slice)
{
	int r;
	if ((r = api->sd_bus_message_open_container(m, 'a', "(sv)")) < 0 ||
	    (slice[0] && (r = api->sd_bus_message_append(m, "(sv)", "Slice", "s", slice)) < 0) ||
	    (r = api->sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)getpid())) < 0 ||
	    (r = api->sd_bus_message_append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
	    (r = api->sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed")) < 0 ||
	    (r = api->sd_bus_message_close_container(m)) < 0)
		return r;
	return api->sd_bus_message_append(m, "a(sa(sv))", 0);
}

struct scope_req {
	const char *unit, *slice, *manager; /* manager: "systemd user manager" or "systemd" */
};

static int start_scope(struct sd_api *api, sd_bus *bus, const struct scope_req *q, struct job_wait *w, char *job,
		       size_t len, struct ubx_err *e)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	const char *path;
	int r = api->sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
						    "org.freedesktop.systemd1.Manager", "StartTransientUnit");
	if (r >= 0)
		r = api->sd_bus_message_append(m, "ss", q->unit, "fail");
	if (r >= 0)
		r = append_properties(api, m, q->slice);
	if (r >= 0)
		r = api->sd_bus_call(bus, m, 0, &error, &reply);
	if (r >= 0)
		r = api->sd_bus_message_read(reply, "o", &path);
	if (r >= 0) {
		snprintf(job, len, "%s", path);
		w->path = job;
	} else {
		ubx_refuse(e, -r, "%s: StartTransientUnit %s: %s (usbox doctor: systemd user manager)", q->manager,
			   q->unit, error.message ? error.message : strerror(-r));
	}
	api->sd_bus_error_free(&error);
	api->sd_bus_message_unref(reply);
	api->sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

int cgroup_systemd_scope(const char *unit, struct ubx_err *e)
{
	return cgroup_systemd_scope_in(unit, "", false, e);
}

int cgroup_systemd_scope_in(const char *unit, const char *slice, bool system, struct ubx_err *e)
{
	struct sd_api api;
	sd_bus *bus = NULL;
	char job[256];
	struct job_wait w = { .api = &api, .path = "" };
	const struct scope_req q = { unit, slice, system ? "systemd" : "systemd user manager" };
	int r;

	if (sd_load(&api) < 0 || (system ? api.sd_bus_open_system(&bus) : api.sd_bus_open_user(&bus)) < 0)
		return -ENOENT;
	/* Asynchronous: the bus delivers AddMatch before the call that follows,
	 * so no JobRemoved can be missed, and no round trip is waited for. */
	r = api.sd_bus_match_signal_async(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
					  "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, NULL, &w);
	if (r < 0)
		ubx_fail(e, -r, "%s: watch jobs", q.manager);
	else
		r = start_scope(&api, bus, &q, &w, job, sizeof(job), e);
	for (int rounds = 0; r >= 0 && !w.result[0]; rounds++) {
		r = api.sd_bus_process(bus, NULL);
		if (r == 0)
			r = api.sd_bus_wait(bus, 10 * 1000 * 1000);
		if (r >= 0 && rounds > 1000)
			r = -ETIMEDOUT;
		if (r < 0)
			ubx_fail(e, -r, "%s: wait for %s", q.manager, unit);
	}
	if (r >= 0 && strcmp(w.result, "done") != 0)
		r = ubx_fail(e, 0, "%s: starting %s %s (usbox doctor: systemd user manager)", q.manager, unit,
			     w.result);
	api.sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}

bool cgroup_systemd_available(void)
{
	struct sd_api api;
	return sd_load(&api) == 0;
}
