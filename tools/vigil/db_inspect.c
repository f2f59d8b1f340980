/*
 * db_inspect.c - `vigil db info|list|verify|unpack`: for people who write
 * signatures (what sigtool's --info, --list-sigs and --unpack do).
 */
#include <stddef.h>

#include "commands.h"

const struct db_verb db_inspect_verbs[] = {
	{ NULL, NULL, NULL },
};
