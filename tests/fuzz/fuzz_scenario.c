// SPDX-License-Identifier: MIT
/* Scenario and target files (YAML): never crash; a scenario that loads
 * prints (resolved, as results/scenario.yaml) to a file that loads again
 * with the same steps. */
#include "fuzz.h"

#include "scenario.h"
#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fl_scenario *sc = NULL, *sc2 = NULL;
	struct fl_sut *t = NULL;
	struct fl_err e;
	char *s = fuzz_string(data, size), *out = NULL;
	size_t len = 0;

	if (!fl_scenario_load("fuzz.yaml", s, &sc, &e)) {
		FILE *m = open_memstream(&out, &len);

		fl_scenario_print(sc, sc->seed, m);
		fclose(m);
		FUZZ_ASSERT(!fl_scenario_load("resolved.yaml", out, &sc2, &e),
			    "a loaded scenario printed as a file that does not load: %s\n%s", e.msg,
			    out);
		FUZZ_ASSERT(sc2->n_steps == sc->n_steps, "steps lost in the resolved scenario");
		fl_scenario_free(sc2);
		fl_scenario_free(sc);
		free(out);
	}
	if (!fl_sut_load("fuzz-target.yaml", s, &t, &e))
		fl_sut_free(t);
	free(s);
	return 0;
}
