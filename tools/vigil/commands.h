/*
 * commands.h - the subcommands of the vigil program.
 */
#ifndef VIGIL_COMMANDS_H
#define VIGIL_COMMANDS_H

/* Each takes the arguments after the program name (argv[0] is the command
 * name) and returns the process exit status. */
int cmd_scan(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* The verbs of `vigil db`, in two tables ended by a NULL name: inspecting
 * databases (db_inspect.c) and publishing releases (db_publish.c). run gets
 * the arguments after "db" (argv[0] is the verb). */
struct db_verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};
extern const struct db_verb db_inspect_verbs[];
extern const struct db_verb db_publish_verbs[];

/* `vigil --version` / `vigil -V`: the one-line version. */
int print_version_line(const char *config_path, int config_required, char *const *db_paths,
		       size_t db_count);

#define VIGIL_DEFAULT_CONFIG VG_SYSCONFDIR "/vigil/vigil.conf"

#endif /* VIGIL_COMMANDS_H */
