// SPDX-License-Identifier: MIT
/* Shell completion from the same source as --help:
 *   fallacy __complete --script bash|zsh   the script (it calls back:)
 *   fallacy __complete -- WORD... CUR      candidates for CUR, one a line
 * Commands come from the command table; a command's subcommands, options
 * and which options take a value from its --help text; fault kinds and
 * their parameters from the kind table; labs, nodes, sessions, scenario
 * and target names from what exists. "__files__" and "__users__" ask the
 * shell for file or user names. */
#include "cmd.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "find.h"
#include "lab/lab.h"
#include "state/state.h"

static const char bash_script[] =
	"# bash completion for fallacy (made by `fallacy __complete --script bash`)\n"
	"_fallacy() {\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} line\n"
	"\tCOMPREPLY=()\n"
	"\twhile IFS= read -r line; do\n"
	"\t\tcase $line in\n"
	"\t\t__files__) compopt -o filenames 2>/dev/null\n"
	"\t\t\tmapfile -t -O \"${#COMPREPLY[@]}\" COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
	"\t\t__users__) mapfile -t -O \"${#COMPREPLY[@]}\" COMPREPLY < <(compgen -u -- \"$cur\") ;;\n"
	"\t\t*) COMPREPLY+=(\"$line\") ;;\n"
	"\t\tesac\n"
	"\tdone < <(\"${COMP_WORDS[0]}\" __complete -- \"${COMP_WORDS[@]:1:COMP_CWORD}\" "
	"2>/dev/null)\n"
	"}\n"
	"complete -F _fallacy fallacy\n";

static const char zsh_script[] =
	"#compdef fallacy\n"
	"# zsh completion for fallacy (made by `fallacy __complete --script zsh`)\n"
	"local -a cands\n"
	"local line\n"
	"for line in \"${(@f)$(\"${words[1]}\" __complete -- \"${(@)words[2,CURRENT]}\" "
	"2>/dev/null)}\"; do\n"
	"  case $line in\n"
	"    __files__) _files ;;\n"
	"    __users__) _users ;;\n"
	"    '') ;;\n"
	"    *) cands+=(\"$line\") ;;\n"
	"  esac\n"
	"done\n"
	"(( ${#cands} )) && compadd -a cands\n"
	"return 0\n";

#define MAX_WORDS 128

struct comp {
	const char *cur;
	const struct fl_cmd *cmd;
	char *help;
	char **args; /* the words after the command, before cur */
	int n_args;
	const char *sub; /* args[0] when the command has subcommands */
};

static void out(const struct comp *c, const char *cand)
{
	if (!strncmp(cand, c->cur, strlen(c->cur)))
		puts(cand);
}

/* ---- what --help says -------------------------------------------------------- */

static void add_sub(char (*v)[24], int *n, const char *word)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(v[i], word))
			return;
	snprintf(v[(*n)++], sizeof(v[0]), "%.23s", word);
}

/* Subcommands: the lower-case words right after "fallacy CMD" in the
 * usage lines (the help's first paragraph; brackets skipped), and their
 * "|" alternatives. */
static int subcommands(const struct comp *c, char (*v)[24], int max)
{
	const char *end = strstr(c->help, "\n\n");
	char key[48], word[64];
	const char *p = c->help;
	int n = 0;

	snprintf(key, sizeof(key), "fallacy %s ", c->cmd->name);
	while ((p = strstr(p, key)) && (!end || p < end) && n < max) {
		int depth = 0, len;
		bool want = true;

		p += strlen(key);
		while (*p && *p != '\n' && n < max && sscanf(p, "%63s%n", word, &len) == 1) {
			for (const char *q = word; *q; q++)
				depth += (*q == '[') - (*q == ']');
			if (depth == 0 && word[0] != '[' && !strchr(word, ']') && want) {
				if (!islower((unsigned char)word[0]))
					break;
				add_sub(v, &n, word);
				want = false;
			} else if (depth == 0 && !strcmp(word, "|")) {
				want = true;
			} else if (depth == 0 && !want && word[0] != '[' && !strchr(word, ']')) {
				break;
			}
			p += len;
			while (*p == ' ')
				p++;
		}
	}
	return n;
}

static bool opt_char(char ch)
{
	return islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '-';
}

/* Every --option and -x that text[0..len) names, once (seen: those out
 * already): a word that starts after a blank, '[', '(' or '|' and ends
 * before one of " ,]|=)". */
static void options_in(const struct comp *c, const char *text, size_t len, char *seen,
		       size_t seen_len)
{
	const char *end = text + len;
	char opt[52];

	for (const char *p = text; (p = memchr(p, '-', (size_t)(end - p))); p++) {
		size_t n = 1;

		if (p > text && !strchr(" \t\n[(|", p[-1]))
			continue;
		if (p[1] == '-')
			n = 2;
		while (n < 48 && p + n < end && opt_char(p[n]))
			n++;
		if ((p + n < end && !strchr(" ,]|=)\n", p[n])) || p[n - 1] == '-' ||
		    (p[1] != '-' && (n != 2 || !isalpha((unsigned char)p[1]))))
			continue;
		snprintf(opt, sizeof(opt), " %.*s ", (int)n, p);
		if (strstr(seen, opt) || strlen(seen) + n + 2 >= seen_len)
			continue;
		strcat(seen, opt + 1);
		opt[n + 1] = '\0';
		out(c, opt + 1);
	}
}

/* The usage lines of "fallacy CMD SUB" (to the next usage line), or NULL
 * when the subcommand has none of its own or they say OPTIONS or PARAMS
 * (its options are then the command's). */
static const char *sub_usage(const struct comp *c, size_t *len)
{
	const char *para = strstr(c->help, "\n\n"), *p, *q;
	char key[80];
	size_t n;

	if (!c->sub[0])
		return NULL;
	n = (size_t)snprintf(key, sizeof(key), "fallacy %s %s", c->cmd->name, c->sub);
	for (p = c->help; (p = strstr(p, key)) && (!para || p < para); p += n)
		if (strchr(" \n", p[n]))
			break;
	if (!p || (para && p >= para))
		return NULL;
	q = strstr(p + n, "\n       fallacy ");
	if (!q || (para && q > para))
		q = para ? para : p + strlen(p);
	*len = (size_t)(q - p);
	if (memmem(p, *len, "OPTIONS", 7) || memmem(p, *len, "PARAMS", 6))
		return NULL;
	return p;
}

/* The options of the command, or of its subcommand when its usage lines
 * list them: those, the TARGET line's when it takes one, and the long
 * forms of its short ones ("-j, --json"). */
static void options(const struct comp *c)
{
	char seen[4096] = " ", pair[16];
	const char *u, *t, *l;
	size_t len;

	u = sub_usage(c, &len);
	if (!u)
		return options_in(c, c->help, strlen(c->help), seen, sizeof(seen));
	options_in(c, u, len, seen, sizeof(seen));
	if (memmem(u, len, "TARGET", 6) && (t = strstr(c->help, "\nTARGET:")))
		options_in(c, t, strcspn(t + 1, "\n") + 1, seen, sizeof(seen));
	for (const char *p = seen; (p = strstr(p, " -")); p++) {
		if (p[2] == '-' || p[3] != ' ')
			continue;
		snprintf(pair, sizeof(pair), "%.2s, --", p + 1);
		if ((l = strstr(c->help, pair)))
			options_in(c, l + 4, strcspn(l + 4, " \n"), seen, sizeof(seen));
	}
}

/* Does option o take a value? Its help shows "o VALUE" (capitals). */
static bool takes_value(const struct comp *c, const char *o)
{
	size_t n = strlen(o);

	for (const char *p = c->help; (p = strstr(p, o)); p += n)
		if ((p == c->help || !opt_char(p[-1])) && p[n] == ' ' &&
		    (isupper((unsigned char)p[n + 1]) || p[n + 1] == '{'))
			return true;
	return false;
}

/* ---- what exists --------------------------------------------------------------- */

static void lab_names(const struct comp *c, bool sessions)
{
	char **names = NULL;
	size_t n = 0;

	if (fl_state_list(&names, &n))
		return;
	for (size_t i = 0; i < n; i++)
		if (sessions || names[i][0] != '@')
			out(c, names[i]);
	fl_strv_free(names, n);
}

/* Nodes of lab, each as prefix + name ("demo/" + "n1"). */
static void nodes(const struct comp *c, const char *lab, const char *prefix)
{
	struct fl_lab *l = NULL;
	char buf[128];

	if (fl_lab_load(lab, &l))
		return;
	for (size_t i = 0; i < l->n_nodes; i++) {
		snprintf(buf, sizeof(buf), "%s%s", prefix, l->nodes[i].name);
		out(c, buf);
	}
	fl_lab_free(l);
}

/* A TARGET: labs, or LAB/NODE once there is a '/'. */
static void target(const struct comp *c)
{
	const char *slash = strchr(c->cur, '/');
	char lab[64], prefix[72];

	if (!slash) {
		lab_names(c, false);
		out(c, "--netns");
		out(c, "--pid");
		return;
	}
	snprintf(lab, sizeof(lab), "%.*s", (int)(slash - c->cur), c->cur);
	snprintf(prefix, sizeof(prefix), "%s/", lab);
	nodes(c, lab, prefix);
}

static void named(const char *name, const char *path, void *arg)
{
	(void)path;
	out(arg, name);
}

static void netns_names(const struct comp *c)
{
	struct dirent *e;
	DIR *d = opendir("/run/netns");

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			out(c, e->d_name);
	if (d)
		closedir(d);
}

static void kinds(const struct comp *c)
{
	for (int k = 0; fl_fault_kinds[k]; k++)
		out(c, fl_fault_kinds[k]->name);
}

/* After "KIND ...": the kind's named parameters and words. */
static void kind_params(const struct comp *c, const char *kind)
{
	const struct fault_ops *ops = fl_fault_kind(kind);

	for (const struct fl_param *p = ops ? ops->params : NULL; p && p->name; p++)
		if (p != ops->params && !(p->flags & FL_PF_HIDDEN))
			out(c, p->name);
}

/* The lab a command line is about (its first word that names one). */
static const char *lab_of(const struct comp *c)
{
	static char lab[64];
	struct fl_lab *l = NULL;

	for (int i = 0; i < c->n_args; i++) {
		snprintf(lab, sizeof(lab), "%.*s", (int)strcspn(c->args[i], "/"), c->args[i]);
		if (lab[0] != '-' && !fl_lab_load(lab, &l)) {
			fl_lab_free(l);
			return lab;
		}
	}
	return NULL;
}

/* ---- values of options --------------------------------------------------------- */

static const struct {
	const char *opt;
	const char *values; /* words, or a special */
} value_kinds[] = {
	{ "--target", "@targets" },
	{ "--scenario", "@scenarios" },
	{ "--user", "__users__" },
	{ "--control-user", "__users__" },
	{ "--from", "@nodes" },
	{ "--to", "@nodes" },
	{ "--node", "@nodes" },
	{ "--netns", "@netns" },
	{ "--proto", "tcp udp icmp icmpv6" },
	{ "--dir", "in out both" },
	{ "--model", "register kv" },
	{ "--side", "before after" },
	{ "--backend", "auto queue netem" },
};

static void words(const struct comp *c, const char *list)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		out(c, w);
}

static void value_of(const struct comp *c, const char *opt)
{
	const char *lab;

	for (size_t i = 0; i < sizeof(value_kinds) / sizeof(value_kinds[0]); i++) {
		const char *v = value_kinds[i].values;

		if (strcmp(value_kinds[i].opt, opt))
			continue;
		if (!strcmp(v, "@targets")) {
			fl_find_each(FL_FIND_TARGET, named, (void *)c);
			puts("__files__");
		} else if (!strcmp(v, "@scenarios")) {
			fl_find_each(FL_FIND_SCENARIO, named, (void *)c);
			puts("__files__");
		} else if (!strcmp(v, "@nodes")) {
			if ((lab = lab_of(c)))
				nodes(c, lab, "");
		} else if (!strcmp(v, "@netns")) {
			netns_names(c);
		} else if (!strncmp(v, "__", 2)) {
			puts(v);
		} else {
			words(c, v);
		}
		return;
	}
	puts("__files__"); /* a FILE, DIR, PATH: or a number, which no list helps */
}

/* ---- positional words, command by command ----------------------------------------- */

/* fault SUB TARGET [ID] KIND PARAMS / control SUB [ID] KIND PARAMS */
static void fault_words(const struct comp *c, int at)
{
	int kind_at = at + (!strcmp(c->sub, "change") ? 1 : 0);
	int pos = 0, i;

	for (i = 1; i < c->n_args; i++)
		if (c->args[i][0] != '-' &&
		    !(i > 1 && c->args[i - 1][0] == '-' && takes_value(c, c->args[i - 1])))
			pos++;
	if (!strcmp(c->sub, "add") || !strcmp(c->sub, "change")) {
		if (pos == kind_at)
			kinds(c);
		else if (pos > kind_at)
			kind_params(c, c->args[c->n_args - pos + kind_at]);
	}
}

static void positional(const struct comp *c)
{
	const char *name = c->cmd->name, *lab;

	if (!strcmp(name, "lab") && c->n_args >= 1) {
		if ((!strcmp(c->sub, "down") || !strcmp(c->sub, "exec")) && c->n_args == 1)
			lab_names(c, false);
		else if (!strcmp(c->sub, "exec") && c->n_args == 2)
			nodes(c, c->args[1], "");
	} else if (!strcmp(name, "fault") && c->n_args >= 1) {
		if (c->n_args == 1)
			target(c);
		else
			fault_words(c, 1);
	} else if (!strcmp(name, "control") && c->n_args >= 1) {
		fault_words(c, 0);
	} else if (!strcmp(name, "partition") || !strcmp(name, "capture")) {
		if (!c->n_args)
			target(c);
		else if ((lab = lab_of(c)))
			nodes(c, lab, "");
	} else if (!strcmp(name, "cleanup")) {
		lab_names(c, true);
	} else if (!strcmp(name, "run")) {
		fl_find_each(FL_FIND_SCENARIO, named, (void *)c);
		puts("__files__");
	} else if (strcmp(name, "doctor")) {
		puts("__files__");
	}
}

static void complete_words(struct comp *c)
{
	char subs[16][24];
	int n_subs = subcommands(c, subs, 16);
	const char *prev = c->n_args ? c->args[c->n_args - 1] : NULL;

	c->sub = n_subs && c->n_args ? c->args[0] : "";
	for (int i = 0; i < c->n_args; i++)
		if (!strcmp(c->args[i], "--"))
			return (void)puts("__files__"); /* wrap -- CMD: the shell's business */
	if (prev && prev[0] == '-' && takes_value(c, prev))
		return value_of(c, prev);
	if (c->cur[0] == '-')
		return options(c);
	if (n_subs && !c->n_args) {
		for (int i = 0; i < n_subs; i++)
			out(c, subs[i]);
		return;
	}
	positional(c);
}

static int complete(int argc, char **argv)
{
	static const char *const globals[] = { "-v", "-vv", "-q", "--check", "--version", "--help" };
	struct comp c = { .cur = argc ? argv[argc - 1] : "" };
	int i = 0;

	while (i < argc - 1 && argv[i][0] == '-')
		i++;
	if (i == argc - 1 || !argc) {
		for (const struct fl_cmd *k = fl_cmds; k->name && c.cur[0] != '-'; k++)
			if (!(k->flags & FL_CMD_HIDDEN))
				out(&c, k->name);
		for (size_t g = 0; g < sizeof(globals) / sizeof(globals[0]) && c.cur[0] == '-'; g++)
			out(&c, globals[g]);
		return FL_EXIT_OK;
	}
	c.cmd = fl_cmd_named(argv[i]);
	if (!c.cmd || !(c.help = fl_help_text(c.cmd)))
		return FL_EXIT_OK;
	c.args = argv + i + 1;
	c.n_args = argc - i - 2;
	complete_words(&c);
	free(c.help);
	return FL_EXIT_OK;
}

int do_complete(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--script")) {
		if (!strcmp(argv[2], "bash") || !strcmp(argv[2], "zsh")) {
			fputs(argv[2][0] == 'b' ? bash_script : zsh_script, stdout);
			return FL_EXIT_OK;
		}
		pr_err("__complete --script: bash or zsh, not '%s'", argv[2]);
		return FL_EXIT_USAGE;
	}
	if (argc < 2 || strcmp(argv[1], "--")) {
		pr_err("usage: fallacy __complete --script bash|zsh | __complete -- WORD... CUR");
		return FL_EXIT_USAGE;
	}
	fl_log_level = FL_LOG_ERROR - 1; /* candidates only, never a warning */
	return complete(argc - 2, argv + 2);
}
