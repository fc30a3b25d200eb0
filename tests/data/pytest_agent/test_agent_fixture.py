# SPDX-License-Identifier: MIT
"""The fallacy_agents fixture against a local agent: a put outlives its
lease while the test runs (renewed), and is reset after it (checked by
agent.bats). The namespaces and the binary come from the environment:
FALLACY, AGENT_A (the pinging side), AGENT_B (the target), AGENT_ADDR."""
import os
import subprocess
import time


def rtt_ms():
    out = subprocess.run(["ip", "netns", "exec", os.environ["AGENT_A"], "ping", "-n", "-q",
                          "-c", "2", "-i", "0.2", "-W", "3", os.environ["AGENT_ADDR"]],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split("=")[-1].split("/")[0])


def test_delay_renewed_past_its_lease(fallacy_agents):
    a = fallacy_agents.connect(local=True, fallacy=os.environ["FALLACY"])
    added = a.put(os.environ["AGENT_B"], ["delay 50ms --proto icmp"], lease="2s")["added"]
    assert added == ["f1"]
    time.sleep(5)
    r = rtt_ms()
    print("rtt 5 s into a 2 s lease: %.1f ms" % r)
    assert r >= 45
