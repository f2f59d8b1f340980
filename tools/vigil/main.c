/*
 * main.c - the vigil command: dispatch to its subcommands.
 */
#include <stdio.h>
#include <string.h>

#include <vigil.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv); /* NULL: planned, not in this version */
	const char *summary;
};

static const struct command commands[] = {
	{ "scan", cmd_scan, "scan files and folders (clamscan-compatible)" },
	{ "version", cmd_version, "show the versions of vigil and of its databases" },
	{ "db", cmd_db, "inspect, verify and publish databases" },
	{ "update", cmd_update, "fetch and verify signed database updates" },
	{ "quarantine", cmd_quarantine, "list, restore and delete quarantined files" },
	{ "audit", cmd_audit, "check the public log of releases" },
};

static void usage(FILE *f)
{
	fputs("Usage: vigil <command> [options] [arguments]\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].run != NULL)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -V, --version  print the version and exit\n"
	      "  -h, --help     print this help and exit\n"
	      "\n"
	      "Run 'vigil <command> --help' for the options of a command, 'man vigil' for more.\n",
	      f);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int run(const struct command *c, int argc, char **argv)
{
	if (c->run == NULL) {
		fprintf(stderr, "ERROR: 'vigil %s' is not available in vigil %s yet.\n", c->name,
			VG_VERSION_STRING);
		return 2;
	}
	return c->run(argc, argv);
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
		return print_version_line(VIGIL_DEFAULT_CONFIG, 0, NULL, 0);
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		if ((c = find(argv[2])) == NULL || c->run == NULL) {
			fprintf(stderr, "ERROR: Unknown command '%s'\n", argv[2]);
			fprintf(stderr, "Run 'vigil --help' for the list of commands.\n");
			return 2;
		}
		char *help_argv[] = { argv[2], (char *)"--help", NULL };
		return run(c, 2, help_argv);
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "ERROR: Unknown option passed: %s\n", argv[1]);
		fprintf(stderr, "Usage: vigil <command> [options]; run 'vigil --help' for the commands.\n");
		return 2;
	}
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "ERROR: Unknown command '%s'\n", argv[1]);
		fprintf(stderr, "Run 'vigil --help' for the list of commands.\n");
		return 2;
	}
	return run(c, argc - 1, argv + 1);
}
