/*
 * db_publish.c - `vigil db keygen|release|sign|log|publish`: the publisher's
 * side of signed, logged releases (docs/UPDATES.md).
 */
#include <stddef.h>

#include "commands.h"

const struct db_verb db_publish_verbs[] = {
	{ NULL, NULL, NULL },
};
