// SPDX-License-Identifier: MIT
/* Inventory files (docs/kubernetes.md: hosts: or kubernetes:) and the
 * `kubectl get pods -o json` texts they are resolved with: never crash;
 * what loads maps to nodes whose targets are one JSON object without
 * escapes, and whose ssh hosts and pod names can never become options. */
#include "fuzz.h"

#include "inventory.h"

static void check_nodes(const struct fl_inv_node *v, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len = strlen(v[i].target);

		FUZZ_ASSERT(len > 2 && v[i].target[0] == '{' && v[i].target[len - 1] == '}' &&
				    !strpbrk(v[i].target, "\\\n"),
			    "target %s", v[i].target);
		FUZZ_ASSERT(v[i].via != FL_INV_SSH || v[i].h->ssh[0] != '-', "ssh %s", v[i].h->ssh);
		FUZZ_ASSERT(v[i].via != FL_INV_KUBECTL || fl_k8s_name_ok(v[i].agent, 253) ||
				    v[i].agent[0] != '-',
			    "agent %s", v[i].agent);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fl_inventory *k8s, *k8s_roles;
	static struct fl_inv_node v[FL_INV_MAX];
	static const char *const roles[] = { "primary", "replica", "replica" };
	char *s = fuzz_string(data, size);
	struct fl_inventory *inv = NULL;
	struct fl_err err;
	int n;

	if (!k8s &&
	    fl_inventory_load("k", "kubernetes: {namespace: db, selector: app=x}\n", &k8s, &err))
		abort();
	if (!k8s_roles && fl_inventory_load("k",
					    "kubernetes: {namespace: db, selector: app=x, "
					    "role_label: role}\n",
					    &k8s_roles, &err))
		abort();
	if (!fl_inventory_load("inventory.yaml", s, &inv, &err)) {
		if (!inv->kubernetes) {
			n = fl_inventory_map(inv, 0, NULL, v, &err);
			FUZZ_ASSERT(n == inv->n || n < 0, "mapped %d of %d hosts", n, inv->n);
			check_nodes(v, n);
			check_nodes(v, fl_inventory_map(inv, 3, NULL, v, &err));
			check_nodes(v, fl_inventory_map(inv, 3, roles, v, &err));
		}
		fl_inventory_free(inv);
	}
	/* the same text as both kubectl answers */
	n = fl_inventory_pods(k8s, s, s, 0, NULL, v, &err);
	check_nodes(v, n);
	check_nodes(v, fl_inventory_pods(k8s_roles, s, s, 3, roles, v, &err));
	free(s);
	return 0;
}
