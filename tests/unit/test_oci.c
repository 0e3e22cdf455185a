/* SPDX-License-Identifier: MIT */
/* oci/config.c: config.json into the spec; refusals name the field. */
#include "unit.h"
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "../../common/jsonc.h"
#include "../../oci/config.h"

#define BASE_PROCESS "\"process\": {\"args\": [\"sh\", \"-c\", \"x\"], \"cwd\": \"/w\", \"env\": [\"A=1\"]}"
#define BASE_LINUX "\"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"pid\"}]}"

static int parse(const char *text, struct oci_config *c, struct ubx_err *e)
{
	ck_assert_int_eq(jsonc_load("test", e), 0);
	return oci_config_parse(text, strlen(text), "/b", c, e);
}

/* A config with @extra members added to the minimal one. */
static int parse_with(const char *extra, struct oci_config *c, struct ubx_err *e)
{
	char text[4096];
	snprintf(text, sizeof(text), "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, %s, %s%s%s}",
		 BASE_PROCESS, BASE_LINUX, extra[0] ? ", " : "", extra);
	return parse(text, c, e);
}

START_TEST(minimal_config)
{
	struct oci_config c;
	struct ubx_err e = { 0 };
	ck_assert_int_eq(parse_with("", &c, &e), 0);
	ck_assert(c.spec.oci.enabled);
	ck_assert_int_eq(c.spec.root.kind, ROOT_DIR);
	ck_assert_str_eq(c.spec.root.path, "/b/rootfs");
	ck_assert_str_eq(c.spec.args[2], "x");
	ck_assert_str_eq(c.spec.cwd, "/w");
	ck_assert_str_eq(c.spec.env[0], "A=1");
	ck_assert_uint_eq(c.spec.oci.ns_new, CLONE_NEWNS | CLONE_NEWPID);
	ck_assert_int_eq(c.spec.net, NET_HOST); /* no network namespace: the creator's */
	ck_assert_int_eq(c.spec.seccomp, SECCOMP_UNCONFINED);
	ck_assert_ptr_null(c.spec.masked_paths[0]);
	ck_assert(!c.has_limits);
	oci_config_free(&c);
}
END_TEST

START_TEST(process_details)
{
	struct oci_config c;
	struct ubx_err e = { 0 };
	const char *text =
		"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/r\", \"readonly\": true}, \"hostname\": \"h\","
		" \"process\": {\"args\": [\"a\"], \"cwd\": \"/\", \"terminal\": true, \"noNewPrivileges\": true,"
		"  \"user\": {\"uid\": 5, \"gid\": 6, \"umask\": 18, \"additionalGids\": [7, 8]},"
		"  \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\"], \"ambient\": [\"CAP_KILL\"]},"
		"  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 20}], \"oomScoreAdj\": -5},"
		" \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
		"  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"options\": [\"size=1m\"]},"
		"  {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"d\", \"options\": [\"rbind\", \"ro\", \"nosuid\", \"mode=755\", \"runbindable\"]},"
		"  {\"destination\": \"/t\", \"type\": \"tmpfs\", \"options\": [\"mode=700\", \"size=2k\"]}],"
		" \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"uts\"}, {\"type\": \"network\", \"path\": \"/n\"}],"
		"  \"sysctl\": {\"net.ipv4.ping_group_range\": \"0 0\"}, \"maskedPaths\": [\"/m\"]}}";
	ck_assert_msg(parse(text, &c, &e) == 0, "%s", e.msg);
	ck_assert(c.spec.root.readonly && c.spec.tty && c.spec.oci.no_new_privs);
	ck_assert_str_eq(c.spec.root.path, "/r");
	ck_assert_str_eq(c.spec.hostname, "h");
	ck_assert_uint_eq(c.spec.uid, 5);
	ck_assert_uint_eq(c.spec.gid, 6);
	ck_assert_int_eq(c.spec.oci.umask, 18);
	ck_assert_uint_eq(c.spec.oci.n_groups, 2);
	ck_assert_uint_eq(c.spec.oci.caps[SPEC_CAP_BOUNDING], (1ULL << 0) | (1ULL << 5));
	ck_assert_uint_eq(c.spec.oci.caps[SPEC_CAP_AMBIENT], 1ULL << 5);
	ck_assert_int_eq(c.spec.oci.rlimits[0].resource, RLIMIT_NOFILE);
	ck_assert(c.spec.oci.has_oom_score_adj && c.spec.oci.oom_score_adj == -5);
	ck_assert_uint_eq(c.spec.shm_size, 1 << 20);
	ck_assert_uint_eq(c.spec.n_mounts, 2); /* /proc is usbox's own */
	ck_assert_str_eq(c.spec.mounts[0].src, "/b/d");
	ck_assert(c.spec.mounts[0].readonly && c.spec.mounts[0].attrs == MOUNT_ATTR_NOSUID);
	ck_assert_uint_eq(c.spec.mounts[1].mode, 0700);
	ck_assert_uint_eq(c.spec.oci.n_join, 1);
	ck_assert_int_eq(c.spec.oci.join[0].flag, CLONE_NEWNET);
	ck_assert_str_eq(c.spec.oci.sysctl[0], "net.ipv4.ping_group_range=0 0");
	ck_assert_str_eq(c.spec.masked_paths[0], "/m");
	oci_config_free(&c);
}
END_TEST

START_TEST(refusals_name_the_field)
{
	static const char *const cases[][2] = {
		{ "\"bogus\": 1", "config.json: bogus: unknown field" },
		{ "\"hostname\": 5", "config.json: hostname: not a string but an integer" },
		{ "\"hostname\": \"h\"", "config.json: hostname: set without a uts namespace of the container" },
		{ "\"mounts\": [{\"destination\": \"rel\", \"type\": \"tmpfs\"}]",
		  "config.json: mounts[0].destination: \"rel\" is not absolute" },
		{ "\"mounts\": [{\"destination\": \"/x\", \"type\": \"nfs\"}]",
		  "config.json: mounts[0]: a nfs mount at /x is not supported by usbox-oci" },
		{ "\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/s\", \"options\": [\"weird\"]}]",
		  "config.json: mounts[0].options: option \"weird\" is not supported" },
		{ "\"hooks\": {\"startContainer\": [{\"path\": \"true\"}]}",
		  "config.json: hooks.startContainer[0].path: \"true\" is not absolute" },
		{ "\"hooks\": {\"createContainers\": []}", "config.json: hooks.createContainers: unknown field" },
		{ "\"hooks\": {\"prestart\": [{\"path\": \"bin/true\"}]}",
		  "config.json: hooks.prestart[0].path: \"bin/true\" is not absolute" },
		{ "\"hooks\": {\"poststop\": [{\"path\": \"/x\", \"timeout\": 0}]}",
		  "config.json: hooks.poststop[0].timeout: 0 out of range (1 to 86400)" },
		{ "\"hooks\": {\"poststart\": [{\"path\": \"/x\", \"arg\": []}]}",
		  "config.json: hooks.poststart[0].arg: unknown field" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_config c;
		struct ubx_err e = { 0 };
		ck_assert_int_lt(parse_with(cases[i][0], &c, &e), 0);
		ck_assert_str_eq(e.msg, cases[i][1]);
	}
}
END_TEST

START_TEST(refusals_in_sections)
{
	static const char *const cases[][2] = {
		{ "{\"ociVersion\": \"2.0\"}", "config.json: ociVersion: \"2.0\" is not a 1.x version" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}}", "config.json: process: missing" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\","
		  " \"user\": {\"uid\": -1}}, " BASE_LINUX "}",
		  "config.json: process.user.uid: -1 out of range (0 to 4294967294)" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"a\"], \"cwd\": \"/\","
		  " \"apparmorProfile\": \"p\"}, " BASE_LINUX "}",
		  "config.json: process.apparmorProfile: AppArmor is not supported by usbox-oci (asked for \"p\")" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": {\"namespaces\": "
		  "[{\"type\": \"pid\"}]}}", "config.json: linux.namespaces: a mount namespace (new, or joined by path) is required" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": {\"namespaces\": "
		  "[{\"type\": \"mount\"}], \"sysctl\": {\"../x\": \"1\"}}}",
		  "config.json: linux.sysctl[\"../x\"]: not a sysctl name" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": {\"namespaces\": "
		  "[{\"type\": \"mount\"}, {\"type\": \"mount\"}]}}",
		  "config.json: linux.namespaces[1].type: namespace \"mount\" given twice" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": {\"namespaces\": "
		  "[{\"type\": \"mount\", \"path\": \"/proc/1/ns/mnt\"}, {\"type\": \"user\"}]}}",
		  "config.json: linux.namespaces: a mount namespace joined by path needs the user namespace that owns it "
		  "(joined by path too), not a new one" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": {\"namespaces\": "
		  "[{\"type\": \"mount\"}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}}",
		  "config.json: linux.uidMappings: given without a user namespace of the container" },
		{ "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": {\"namespaces\": "
		  "[{\"type\": \"mount\"}], \"rootfsPropagation\": \"rrshared\"}}",
		  "config.json: linux.rootfsPropagation: \"rrshared\" is not [r]shared, [r]slave, [r]private or [r]unbindable" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_config c;
		struct ubx_err e = { 0 };
		ck_assert_int_lt(parse(cases[i][0], &c, &e), 0);
		ck_assert_str_eq(e.msg, cases[i][1]);
	}
}
END_TEST

START_TEST(limits_are_noticed)
{
	struct oci_config c;
	struct ubx_err e = { 0 };
	ck_assert_int_eq(parse(
		"{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": {\"namespaces\": "
		"[{\"type\": \"mount\"}], \"resources\": {\"devices\": [], \"pids\": {\"limit\": 40}}}}", &c, &e), 0);
	ck_assert(c.has_limits);
	ck_assert_str_eq(c.ignored, "linux.resources.devices");
	oci_config_free(&c);
}
END_TEST

/* A hostname goes into a uts namespace the container joins as into a new one (runc too). */
START_TEST(hostname_in_joined_uts)
{
	struct oci_config c;
	struct ubx_err e = { 0 };
	ck_assert_msg(parse("{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"hostname\": \"h\","
			    " \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"uts\", \"path\": \"/u\"}]}}",
			    &c, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(c.spec.hostname, "h");
	ck_assert_uint_eq(c.spec.oci.n_join, 1);
	ck_assert_int_eq(c.spec.oci.join[0].flag, CLONE_NEWUTS);
	oci_config_free(&c);
}
END_TEST

/* A user and a mount namespace joined by path, with maps (checked when
 * joined): kept in order, flagged as joined, none made. */
START_TEST(user_and_mount_joined)
{
	struct oci_config c;
	struct ubx_err e = { 0 };
	ck_assert_msg(parse("{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": "
			    "{\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\", \"path\": \"/m\"}, "
			    "{\"type\": \"user\", \"path\": \"/u\"}], "
			    "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}}",
			    &c, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(c.spec.oci.n_join, 2);
	ck_assert_str_eq(c.spec.oci.join[1].path, "/u");
	ck_assert_uint_eq(c.spec.oci.ns_joined, CLONE_NEWNS | CLONE_NEWUSER);
	ck_assert_uint_eq(c.spec.oci.ns_new, CLONE_NEWPID);
	ck_assert_int_eq(oci_config_ns(&c), CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUSER);
	ck_assert_uint_eq(c.spec.oci.n_uid_map, 1);
	oci_config_free(&c);
}
END_TEST

/* Hooks: each kind in order, with its fields; the object kept as text. */
START_TEST(hooks_parsed)
{
	struct oci_config c;
	struct ubx_err e = { 0 };
	struct oci_hooks h;
	ck_assert_msg(parse("{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": "
			    "{\"namespaces\": [{\"type\": \"mount\"}]}, \"hooks\": {\"prestart\": [{\"path\": \"/a\"}, "
			    "{\"path\": \"/b\", \"args\": [\"b\", \"1\"], \"env\": [\"X=1\"], \"timeout\": 5}], "
			    "\"poststop\": [{\"path\": \"/c\"}], \"createContainer\": [], "
			    "\"startContainer\": [{\"path\": \"/s\"}]}}", &c, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(c.hooks.n[OCI_HOOK_PRESTART], 2);
	ck_assert_uint_eq(c.hooks.n[OCI_HOOK_CREATE_CONTAINER], 0);
	ck_assert_str_eq(c.hooks.v[OCI_HOOK_START_CONTAINER][0].path, "/s");
	ck_assert_uint_eq(c.hooks.n[OCI_HOOK_POSTSTART], 0);
	ck_assert_str_eq(c.hooks.v[OCI_HOOK_PRESTART][1].args[1], "1");
	ck_assert_str_eq(c.hooks.v[OCI_HOOK_PRESTART][1].env[0], "X=1");
	ck_assert_int_eq(c.hooks.v[OCI_HOOK_PRESTART][1].timeout, 5);
	ck_assert_ptr_null(c.hooks.v[OCI_HOOK_PRESTART][0].args);
	ck_assert_msg(oci_hooks_parse(c.hooks.json, strlen(c.hooks.json), &h, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(h.v[OCI_HOOK_POSTSTOP][0].path, "/c");
	ck_assert_str_eq(h.v[OCI_HOOK_START_CONTAINER][0].path, "/s");
	oci_hooks_free(&h);
	oci_config_free(&c);
}
END_TEST

/* linux.devices: type, numbers, mode and owner; paths only under /dev/. */
START_TEST(devices_parsed)
{
	struct oci_config c;
	struct ubx_err e = { 0 };
	const char *head = "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS ", \"linux\": "
			   "{\"namespaces\": [{\"type\": \"mount\"}], \"devices\": ";
	char text[1024];
	snprintf(text, sizeof(text), "%s[{\"path\": \"/dev/net/tun\", \"type\": \"c\", \"major\": 10, \"minor\": 200, "
		 "\"fileMode\": 432, \"uid\": 5, \"gid\": 6}, {\"path\": \"/dev/p\", \"type\": \"p\"}]}}", head);
	ck_assert_msg(parse(text, &c, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(c.spec.oci.n_devices, 2);
	ck_assert_uint_eq(c.spec.oci.devices[0].type, S_IFCHR);
	ck_assert_uint_eq(c.spec.oci.devices[0].minor, 200);
	ck_assert_uint_eq(c.spec.oci.devices[0].mode, 0660);
	ck_assert_uint_eq(c.spec.oci.devices[0].gid, 6);
	ck_assert_uint_eq(c.spec.oci.devices[1].type, S_IFIFO);
	ck_assert_uint_eq(c.spec.oci.devices[1].mode, 0666);
	oci_config_free(&c);
	static const char *const refused[][2] = {
		{ "[{\"path\": \"/etc/x\", \"type\": \"c\"}]", "config.json: linux.devices[0].path: \"/etc/x\" is not a path under /dev/" },
		{ "[{\"path\": \"/dev/../x\", \"type\": \"c\"}]", "config.json: linux.devices[0].path: \"/dev/../x\" is not a path under /dev/" },
		{ "[{\"path\": \"/dev/x/\", \"type\": \"c\"}]", "config.json: linux.devices[0].path: \"/dev/x/\" is not a path under /dev/" },
		{ "[{\"path\": \"/dev/x\", \"type\": \"s\"}]", "config.json: linux.devices[0].type: \"s\" is not a device type (c, u, b, p)" },
		{ "[{\"path\": \"/dev/x\"}]", "config.json: linux.devices[0].type: missing" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(text, sizeof(text), "%s%s}}", head, refused[i][0]);
		ck_assert_int_lt(parse(text, &c, &e), 0);
		ck_assert_str_eq(e.msg, refused[i][1]);
	}
}
END_TEST

START_TEST(root_propagation)
{
	static const struct {
		const char *value;
		unsigned long flags;
	} cases[] = { { "", 0 }, { "shared", MS_SHARED }, { "rslave", MS_SLAVE | MS_REC },
		      { "private", MS_PRIVATE }, { "runbindable", MS_UNBINDABLE | MS_REC } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_config c;
		struct ubx_err e = { 0 };
		char text[512];
		snprintf(text, sizeof(text), "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, " BASE_PROCESS
			 ", \"linux\": {\"namespaces\": [{\"type\": \"mount\"}], \"rootfsPropagation\": \"%s\"}}",
			 cases[i].value);
		ck_assert_msg(parse(text, &c, &e) == 0, "%s", e.msg);
		ck_assert_uint_eq(c.spec.oci.root_propagation, cases[i].flags);
		ck_assert_str_eq(c.ignored, "");
		oci_config_free(&c);
	}
}
END_TEST

UNIT_MAIN("oci", minimal_config, process_details, refusals_name_the_field, refusals_in_sections, limits_are_noticed,
	  hostname_in_joined_uts, user_and_mount_joined, hooks_parsed, devices_parsed, root_propagation)
