/* SPDX-License-Identifier: MIT */
/* Netfilter rules inside a network namespace, through `iptables-restore
 * --noflush` / `ip6tables-restore --noflush` run there (spawn.h): the one
 * place fallacy writes iptables rules (the delay line's NFQUEUE rule, a
 * foreign administrator's firewall), and the journal's undo of them.
 *
 * Variant: the one the host's `iptables` command is (so `iptables -L` in a
 * namespace shows fallacy's rules: a foreign administrator's firewall must
 * be seen by the node's operator), else iptables-nft (xt targets through
 * nft_compat) when present, else iptables-legacy; FALLACY_IPTABLES=legacy|nft
 * forces one. If the chosen one fails to insert, the other is tried once and
 * kept. Removal tries both, so a rule is removed whichever variant put it
 * in (a crash cleanup does not know which one the dead process used). */
#ifndef FALLACY_IPTABLES_H
#define FALLACY_IPTABLES_H

#include <stddef.h>

/* "nft" or "legacy": the variant in use (probing on first call). */
const char *fl_iptables_variant(void);
/* `-I`/`-A` CHAIN RULE in TABLE of family 4|6 inside netns (journal spec).
 * 0, or -EIO with the tool's message in msg. */
int fl_iptables_add(const char *netns, int family, const char *table, const char *op,
		    const char *chain, const char *rule, char *msg, size_t len);
/* Delete the rule from whichever variant holds it. 0 when it is gone from
 * both (or the namespace is gone); -EIO when a present rule stays. */
int fl_iptables_remove(const char *netns, int family, const char *table, const char *chain,
		       const char *rule);

/* `iptables-save -c -t TABLE` (ip6tables for family 6) of the variant in
 * use, inside netns, into out (truncated to len - 1 bytes): the rules with
 * their [packets:bytes] counters. 0, or -EIO with the message in out. */
int fl_iptables_save(const char *netns, int family, const char *table, char *out, size_t len);

#endif
