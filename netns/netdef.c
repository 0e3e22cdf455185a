/* SPDX-License-Identifier: MIT */
/*
 * netdef.c - user network definitions: one small file per network under
 * ${XDG_DATA_HOME:-~/.local/share}/usbox/networks, so that a network
 * outlives reboots the way podman's and Docker's do.
 */
#include "netns.h"
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/parse.h"
#include "../common/statedir.h"

#define DEFAULT_FIRST "10.89.0.0"
#define DEFAULT_PREFIX 24
#define DEFAULT_COUNT 256 /* 10.89.0.0/24 .. 10.89.255.0/24 */

bool netns_network_name_valid(const char *name)
{
	static const char *const reserved[] = { "slirp", "none", "host", "bridge", "default", NULL };
	size_t len = strlen(name);

	if (len == 0 || len > NETNS_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	for (size_t i = 0; reserved[i]; i++)
		if (strcmp(name, reserved[i]) == 0)
			return false;
	return true;
}

static uint32_t mask_of(uint8_t prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

int netns_subnet_parse(const char *text, uint32_t *net, uint8_t *prefix, struct ubx_err *e)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr a;
	uint64_t p;

	const char *slash = strchr(text, '/');
	if (!slash || (size_t)(slash - text) >= sizeof(addr))
		return ubx_fail(e, 0, "subnet '%s': expected ADDRESS/PREFIX, e.g. 10.89.0.0/24", text);
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		return ubx_fail(e, 0, "subnet '%s': '%s' is not an IPv4 address", text, addr);
	if (parse_u64(slash + 1, 32, &p) < 0 || p < 8 || p > 28)
		return ubx_fail(e, 0, "subnet '%s': the prefix length must be 8 to 28", text);
	if (ntohl(a.s_addr) & ~mask_of((uint8_t)p))
		return ubx_fail(e, 0, "subnet '%s': host bits are set (did you mean %s/%u?)", text,
				inet_ntop(AF_INET, &(struct in_addr){ htonl(ntohl(a.s_addr) & mask_of((uint8_t)p)) },
					  addr, sizeof(addr)),
				(unsigned)p);
	*net = a.s_addr;
	*prefix = (uint8_t)p;
	return 0;
}

static uint32_t host_addr(const struct netns_network *n, uint32_t index)
{
	return htonl(ntohl(n->net) + index);
}

/* fd00::@index, the IPv6 twin of host_addr() in every network's fd00::/64. */
static void host_addr6(uint32_t index, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfd;
	out[12] = (uint8_t)(index >> 24), out[13] = (uint8_t)(index >> 16);
	out[14] = (uint8_t)(index >> 8), out[15] = (uint8_t)index;
}

struct netns_lease netns_network_lease(const struct netns_network *n, uint32_t index)
{
	struct netns_lease l = { .addr = index ? host_addr(n, index) : 0, .gateway = host_addr(n, 1),
				 .dns = host_addr(n, 2), .prefix = n->prefix };
	if (index)
		host_addr6(index, l.addr6);
	host_addr6(1, l.gateway6);
	host_addr6(2, l.dns6);
	return l;
}

static int defs_dir(char *buf, size_t len, struct ubx_err *e)
{
	return data_dir_path("networks", buf, len, e);
}

/* The definition file of @name (a valid name). */
static int def_path(const char *name, char *buf, size_t len, struct ubx_err *e)
{
	char dir[PATH_MAX];
	int r = defs_dir(dir, sizeof(dir), e);
	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return ubx_fail(e, ENAMETOOLONG, "%s/%s", dir, name);
	return 0;
}

/* An "allow=" line's DESTs, checked, into @n->allow. */
static int parse_allow(const char *text, struct netns_network *n, struct ubx_err *e)
{
	_cleanup_free_ struct netns_allow *rules = NULL;
	size_t count = 0;
	int r = netns_allow_parse(text, &rules, &count, e);
	if (r < 0)
		return ubx_wrap(e, "network %s: allow", n->name);
	if ((size_t)snprintf(n->allow, sizeof(n->allow), "%s", text) >= sizeof(n->allow))
		return ubx_fail(e, 0, "network %s: its allowed destinations are too long", n->name);
	return 0;
}

/* Parses a definition file's "key=value" lines into @n. */
static int parse_def(FILE *f, const char *name, struct netns_network *n, struct ubx_err *e)
{
	char line[sizeof(n->allow) + 16];
	bool have_subnet = false;

	*n = (struct netns_network){ 0 };
	snprintf(n->name, sizeof(n->name), "%s", name);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "subnet=", 7) == 0) {
			if (netns_subnet_parse(line + 7, &n->net, &n->prefix, e) < 0)
				return ubx_wrap(e, "network %s", name);
			have_subnet = true;
		} else if (strcmp(line, "allow_host_loopback=true") == 0) {
			n->allow_host_loopback = true;
		} else if (strncmp(line, "allow=", 6) == 0 && line[6]) {
			if (parse_allow(line + 6, n, e) < 0)
				return -EINVAL;
		} else if (strncmp(line, "log=", 4) == 0 && line[4] == '/') {
			if (strlen(line + 4) >= sizeof(n->log))
				return ubx_fail(e, 0, "network %s: its log's path is too long", name);
			memcpy(n->log, line + 4, strlen(line + 4) + 1);
		}
	}
	if (!have_subnet)
		return ubx_fail(e, 0, "network %s: its definition has no subnet", name);
	return 0;
}

int netns_network_load(const char *name, struct netns_network *out, struct ubx_err *e)
{
	char path[PATH_MAX];
	int r;

	if (!netns_network_name_valid(name))
		return ubx_fail(e, 0, "'%s' is not a valid network name", name);
	if ((r = def_path(name, path, sizeof(path), e)) < 0)
		return r;
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return ubx_fail(e, 0, "network %s not found (create it with: usbox network create %s)", name,
				name);
	if (!f)
		return ubx_fail(e, errno, "read %s", path);
	return parse_def(f, name, out, e);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct netns_network *)a)->name, ((const struct netns_network *)b)->name);
}

int netns_network_list(struct netns_network **out, struct ubx_err *e)
{
	char path[PATH_MAX];
	struct dirent *d;
	size_t n = 0, cap = 0;
	int r;

	*out = NULL;
	if ((r = defs_dir(path, sizeof(path), e)) < 0)
		return r;
	DIR *dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : ubx_fail(e, errno, "open %s", path);
	while ((d = readdir(dir))) {
		struct netns_network net;
		struct ubx_err ignored;
		if (!netns_network_name_valid(d->d_name) || netns_network_load(d->d_name, &net, &ignored) < 0)
			continue; /* not ours, or half-written */
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			struct netns_network *grown = realloc(*out, cap * sizeof(**out));
			if (!grown) {
				closedir(dir);
				free(*out);
				*out = NULL;
				return ubx_fail(e, ENOMEM, "network list");
			}
			*out = grown;
		}
		(*out)[n++] = net;
	}
	closedir(dir);
	if (n)
		qsort(*out, n, sizeof(**out), by_name);
	return (int)n;
}

static bool overlaps(uint32_t a, uint8_t pa, uint32_t b, uint8_t pb)
{
	uint32_t m = mask_of(pa < pb ? pa : pb);
	return (ntohl(a) & m) == (ntohl(b) & m);
}

/* The first default subnet no existing network overlaps, or -EADDRNOTAVAIL. */
static int pick_subnet(const struct netns_network *all, int n, uint32_t *net, struct ubx_err *e)
{
	struct in_addr first;
	inet_pton(AF_INET, DEFAULT_FIRST, &first);
	for (uint32_t i = 0; i < DEFAULT_COUNT; i++) {
		uint32_t cand = htonl(ntohl(first.s_addr) + (i << 8));
		bool used = false;
		for (int k = 0; all && k < n && !used; k++)
			used = overlaps(cand, DEFAULT_PREFIX, all[k].net, all[k].prefix);
		if (!used) {
			*net = cand;
			return 0;
		}
	}
	return ubx_fail(e, EADDRNOTAVAIL, "every 10.89.N.0/24 is taken; pass --subnet");
}

static int check_new(const struct netns_network *n, const struct netns_network *all, int count, struct ubx_err *e)
{
	char a[INET_ADDRSTRLEN];
	for (int k = 0; all && k < count; k++) {
		if (strcmp(all[k].name, n->name) == 0)
			return ubx_fail(e, 0, "network %s already exists", n->name);
		if (n->prefix && overlaps(n->net, n->prefix, all[k].net, all[k].prefix))
			return ubx_fail(e, 0, "subnet %s/%u overlaps network %s",
					inet_ntop(AF_INET, &n->net, a, sizeof(a)), (unsigned)n->prefix, all[k].name);
	}
	return 0;
}

/* Writes the definition of @n into @dir atomically (a new name, then rename). */
static int write_def(const char *dir, const struct netns_network *n, struct ubx_err *e)
{
	char tmp[PATH_MAX + 64], path[PATH_MAX + 64], a[INET_ADDRSTRLEN];

	snprintf(path, sizeof(path), "%s/%s", dir, n->name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.new", dir, n->name);
	_cleanup_fclose_ FILE *f = fopen(tmp, "wex");
	if (!f)
		return ubx_fail(e, errno, "create %s", tmp);
	fprintf(f, "subnet=%s/%u\nallow_host_loopback=%s\n", inet_ntop(AF_INET, &n->net, a, sizeof(a)),
		(unsigned)n->prefix, n->allow_host_loopback ? "true" : "false");
	if (n->allow[0])
		fprintf(f, "allow=%s\n", n->allow);
	if (n->log[0])
		fprintf(f, "log=%s\n", n->log);
	if (fflush(f) != 0 || link(tmp, path) < 0) {
		int r = errno == EEXIST ? ubx_fail(e, 0, "network %s already exists", n->name) :
					  ubx_fail(e, errno, "create %s", path);
		unlink(tmp);
		return r;
	}
	unlink(tmp);
	return 0;
}

/* The rules @allow as one "allow=" value, in their canonical spelling. */
static int join_allow(const struct netns_allow *allow, size_t n, const char *log, struct netns_network *out,
		      struct ubx_err *e)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		char dest[NETNS_DNS_NAME_MAX + 64];
		netns_allow_format(&allow[i], dest, sizeof(dest));
		int w = snprintf(out->allow + len, sizeof(out->allow) - len, "%s%s", i ? "," : "", dest);
		if (w < 0 || (size_t)w >= sizeof(out->allow) - len)
			return ubx_fail(e, 0, "network %s: the allowed destinations are too long (at most %zu "
					"characters)", out->name, sizeof(out->allow) - 1);
		len += (size_t)w;
	}
	if (log && (log[0] != '/' || strchr(log, '\n') ||
		    (size_t)snprintf(out->log, sizeof(out->log), "%s", log) >= sizeof(out->log)))
		return ubx_fail(e, 0, "network %s: the log must be an absolute path of one line", out->name);
	if (log && !n)
		return ubx_fail(e, 0, "network %s: --log logs what --allow decides: give --allow too", out->name);
	return 0;
}

int netns_network_create(const char *name, const char *subnet, bool allow_host_loopback,
			 const struct netns_allow *allow, size_t n_allow, const char *log, struct netns_network *out,
			 struct ubx_err *e)
{
	char dir[PATH_MAX];
	int r;

	if (!netns_network_name_valid(name))
		return ubx_fail(e, 0, "'%s' is not a valid network name (letters, digits, '_', '.', '-'; at most %d; "
				"not slirp, none, host, bridge or default)", name, NETNS_NAME_MAX);
	*out = (struct netns_network){ .allow_host_loopback = allow_host_loopback };
	snprintf(out->name, sizeof(out->name), "%s", name);
	if ((r = join_allow(allow, n_allow, log, out, e)) < 0)
		return r;
	if (subnet && (r = netns_subnet_parse(subnet, &out->net, &out->prefix, e)) < 0)
		return r;
	struct netns_network *all;
	int count = netns_network_list(&all, e);
	if (count < 0)
		return count;
	r = check_new(out, all, count, e);
	if (r == 0 && !subnet) {
		out->prefix = DEFAULT_PREFIX;
		r = pick_subnet(all, count, &out->net, e);
	}
	free(all);
	if (r < 0 || (r = defs_dir(dir, sizeof(dir), e)) < 0 || (r = mkdir_parents(dir, 0700, e)) < 0)
		return r;
	return write_def(dir, out, e);
}

int netdef_delete(const char *name, struct ubx_err *e)
{
	char path[PATH_MAX + 64];
	int r = def_path(name, path, sizeof(path), e);
	if (r < 0)
		return r;
	if (unlink(path) < 0)
		return errno == ENOENT ? ubx_fail(e, 0, "network %s not found", name) :
					 ubx_fail(e, errno, "remove %s", path);
	return 0;
}
