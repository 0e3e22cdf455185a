/* SPDX-License-Identifier: MIT */
#include "netcmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../netns/netns.h"

void network_usage(FILE *out)
{
	fputs("Usage: usbox network create [--subnet CIDR] [--allow-host-loopback] [--allow DEST]... [--log FILE] NAME\n"
	      "       usbox network ls [-q]\n"
	      "       usbox network rm NAME...\n\n"
	      "A user network joins sandboxes started with --net NAME over veth pairs on a\n"
	      "bridge, with one user-mode (slirp) uplink; --name NAME makes a sandbox known\n"
	      "to the others by that name.  Without --subnet a free 10.89.N.0/24 is taken.\n"
	      "--allow DEST (HOST, *.DOMAIN, IP or CIDR, with :PORT or :LOW-HIGH; repeatable,\n"
	      "commas) lets the uplink reach only those; --log FILE appends a JSON line per\n"
	      "decision to FILE.\n",
	      out);
}

/* The value of the option @opt at argv[*i] ("--opt V" or "--opt=V"), or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t len = strlen(opt);
	const char *a = argv[*i];
	if (strncmp(a, opt, len) != 0)
		return NULL;
	if (a[len] == '=')
		return a + len + 1;
	if (a[len] != '\0' || *i + 1 >= argc || !argv[*i + 1])
		return NULL;
	return argv[++*i];
}

/* --log FILE, made absolute against the working directory. */
static int log_path(const char *file, char **out, struct ubx_err *e)
{
	char cwd[4096];
	free(*out);
	*out = NULL;
	if (file[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return ubx_fail(e, errno, "network create: --log");
	if (file[0] == '/' ? !(*out = strdup(file)) : asprintf(out, "%s/%s", cwd, file) < 0)
		return ubx_fail(e, ENOMEM, "network create: --log");
	return 0;
}

static int cmd_create(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	const char *subnet = NULL, *name = NULL, *v;
	bool loopback = false;
	struct netns_network net;
	char a[INET_ADDRSTRLEN];
	_cleanup_free_ struct netns_allow *allow = NULL;
	_cleanup_free_ char *log = NULL;
	size_t n_allow = 0;
	int r;

	for (int i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--subnet")))
			subnet = v;
		else if ((v = opt_value(argc, argv, &i, "--allow"))) {
			if ((r = netns_allow_parse(v, &allow, &n_allow, e)) < 0)
				return ubx_wrap(e, "network create: --allow");
		} else if ((v = opt_value(argc, argv, &i, "--log"))) {
			if ((r = log_path(v, &log, e)) < 0)
				return r;
		} else if (strcmp(argv[i], "--allow-host-loopback") == 0)
			loopback = true;
		else if (argv[i][0] == '-')
			return ubx_fail(e, 0, "network create: unknown option '%s'", argv[i]);
		else if (name)
			return ubx_fail(e, 0, "network create: one name only ('%s' and '%s')", name, argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return ubx_fail(e, 0, "network create: no name given (usage: usbox network create [--subnet CIDR] NAME)");
	r = netns_network_create(name, subnet, loopback, allow, n_allow, log, &net, e);
	if (r < 0)
		return r;
	fprintf(out, "%s\t%s/%u\n", net.name, inet_ntop(AF_INET, &net.net, a, sizeof(a)), (unsigned)net.prefix);
	return 0;
}

static int cmd_ls(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	bool quiet = argc == 2 && strcmp(argv[1], "-q") == 0;
	struct netns_network *all;
	char a[INET_ADDRSTRLEN], subnet[32];

	if (argc > 2 || (argc == 2 && !quiet))
		return ubx_fail(e, 0, "network ls: unknown argument '%s'", argv[1]);
	int n = netns_network_list(&all, e);
	if (n < 0)
		return n;
	if (!quiet)
		fprintf(out, "%-20s %-18s %s\n", "NAME", "SUBNET", "SANDBOXES");
	for (int i = 0; i < n; i++) {
		if (quiet) {
			fprintf(out, "%s\n", all[i].name);
			continue;
		}
		struct ubx_err ignored;
		int users = netns_network_users(all[i].name, &ignored);
		snprintf(subnet, sizeof(subnet), "%s/%u", inet_ntop(AF_INET, &all[i].net, a, sizeof(a)),
			 (unsigned)all[i].prefix);
		fprintf(out, "%-20s %-18s %d\n", all[i].name, subnet, users < 0 ? 0 : users);
	}
	free(all);
	return 0;
}

static int cmd_rm(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	if (argc < 2)
		return ubx_fail(e, 0, "network rm: no name given (usage: usbox network rm NAME...)");
	for (int i = 1; i < argc; i++) {
		int r = netns_network_remove(argv[i], e);
		if (r < 0)
			return r;
		fprintf(out, "%s\n", argv[i]);
	}
	return 0;
}

int network_command(int argc, char **argv, FILE *out, struct ubx_err *e)
{
	static const struct {
		const char *name, *alias;
		int (*run)(int, char **, FILE *, struct ubx_err *);
	} cmds[] = { { "create", NULL, cmd_create }, { "ls", "list", cmd_ls }, { "rm", "remove", cmd_rm } };

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		network_usage(out);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0 || (cmds[i].alias && strcmp(argv[1], cmds[i].alias) == 0))
			return cmds[i].run(argc - 1, argv + 1, out, e);
	return ubx_fail(e, 0, "network: unknown command '%s' (create, ls, rm)", argv[1]);
}
