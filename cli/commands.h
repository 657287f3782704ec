/* Declarations of every cmd_<verb> listed in commands.def. */
#ifndef PG_CLI_COMMANDS_H
#define PG_CLI_COMMANDS_H
#include "cli.h"
#define PG_COMMAND(name, help) PG_CMD(name);
#include "commands.def"
#undef PG_COMMAND
#endif
