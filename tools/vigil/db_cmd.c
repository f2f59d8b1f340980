/*
 * db_cmd.c - `vigil db <verb>`: dispatch to the verbs of db_inspect.c and
 * db_publish.c.
 */
#include <stdio.h>
#include <string.h>

#include <vigil.h>

#include "commands.h"

static const struct db_verb *const db_tables[] = { db_inspect_verbs, db_publish_verbs };

static void db_usage(FILE *f)
{
	fputs("Usage: vigil db <verb> [options] [arguments]\n\nVerbs:\n", f);
	for (size_t t = 0; t < sizeof(db_tables) / sizeof(db_tables[0]); t++)
		for (const struct db_verb *v = db_tables[t]; v->name != NULL; v++)
			fprintf(f, "  %-10s %s\n", v->name, v->summary);
	fputs("\nRun 'vigil db <verb> --help' for the options of a verb.\n", f);
}

int cmd_db(int argc, char **argv)
{
	if (argc < 2) {
		db_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		db_usage(stdout);
		return 0;
	}
	for (size_t t = 0; t < sizeof(db_tables) / sizeof(db_tables[0]); t++)
		for (const struct db_verb *v = db_tables[t]; v->name != NULL; v++)
			if (strcmp(v->name, argv[1]) == 0)
				return v->run(argc - 1, argv + 1);
	fprintf(stderr, "ERROR: Unknown verb 'vigil db %s'\n", argv[1]);
	fprintf(stderr, "Run 'vigil db --help' for the list of verbs.\n");
	return 2;
}
