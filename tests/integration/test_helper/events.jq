# SPDX-License-Identifier: MIT
# The schema of every events.jsonl fallacy writes (docs/results.md), for
#   jq -r -f events.jq FILE
# which prints "LINE: what is wrong: THE LINE" for each line that breaks it
# and nothing when every line holds (a line that is not JSON stops jq with
# an error).

# Member types: int (>= 0), sint (any integer), string, bool, array, object.
def typeok($t):
	if $t == "int" then type == "number" and . == floor and . >= 0
	elif $t == "sint" then type == "number" and . == floor
	elif $t == "string" then type == "string"
	elif $t == "bool" then type == "boolean"
	elif $t == "array" then type == "array"
	elif $t == "object" then type == "object"
	else false end;

# Per event: whether an id is required, the members it must have (req) and
# those it may have (opt), with their types.
def schema:
	{ "lab-up": { id: true }, "lab-down": { id: true },
	  "target-start": { id: true, opt: { process: "string", pid: "int", restart: "bool",
					   role: "string" } },
	  "ready": {},
	  "leader": { req: { nodes: "array" } },
	  "target-kill": { id: true, req: { process: "string", pid: "int" } },
	  "target-pause": { id: true, req: { process: "string", pid: "int" } },
	  "target-resume": { id: true, req: { process: "string", pid: "int" } },
	  "target-restart": { id: true, req: { process: "string", pid: "int", status: "sint" } },
	  "kill": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		    opt: { select: "array" } },
	  "pause": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		     opt: { select: "array" } },
	  "stop": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		    opt: { select: "array" } },
	  "restart": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		       opt: { select: "array" } },
	  "start": { opt: { session: "string", seed: "int" } },
	  "netns": { req: { netns: "string", session: "string" } },
	  "capture": { req: { file: "string" },
		       opt: { written: "int", dropped: "int", netns: "string", ifname: "string",
			      bytes: "int" } },
	  "exec": { req: { pid: "int" } },
	  "exec-failed": { req: { errno: "int" } },
	  "signal": { req: { signal: "int", forwarded_to: "int" } },
	  "control": { req: { path: "string", uid: "int" } },
	  "fault": { id: true, req: { spec: "string" },
		     opt: { late_ns: "int", apply_ns: "int", netns: "string", ifname: "string",
			    source: "string", select: "array", host: "array" } },
	  "partition": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
			 opt: { select: "array", host: "array" } },
	  "admin": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		     opt: { select: "array" } },
	  "check-run": { id: true, req: { nodes: "array", status: "array" },
			 opt: { select: "array", late_ns: "int" } },
	  "heal": { id: true, opt: { counters: "array", late_ns: "int", apply_ns: "int", by: "string",
				     reason: "string", source: "string", host: "array" } },
	  "inventory": { id: true, req: { nodes: "array" } },
	  "agents-reset": {},
	  "inject": { id: true, req: { spec: "string" },
		      opt: { late_ns: "int", apply_ns: "int", packets: "int", select: "array" } },
	  "error": { id: true, req: { message: "string" } },
	  "exit": { req: { pid: "int", status: "int" }, opt: { signal: "int" } },
	  "end": { opt: { status: "sint" } },
	  "target-exited": { id: true, req: { status: "sint" }, opt: { process: "string" } },
	  "target-stop": { id: true, req: { status: "sint", killed: "bool" },
			   opt: { process: "string", why: "string" } },
	  "profiles": { id: true },
	  "member-join": { id: true, req: { status: "sint" } },
	  "member-leave": { id: true, req: { status: "sint" } },
	  "link": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		  opt: { select: "array" } },
	  "join": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		  opt: { select: "array" } },
	  "leave": { id: true, req: { spec: "string", late_ns: "int", apply_ns: "int" },
		  opt: { select: "array" } },
	  "flap": { id: true, opt: { spec: "string", late_ns: "int", apply_ns: "int",
				     change: "string", select: "array" } },
	  "readdress": { id: true, opt: { spec: "string", late_ns: "int", apply_ns: "int",
					  change: "string", took_ns: "int", select: "array" } },
	  "mtu": { id: true, opt: { spec: "string", late_ns: "int", apply_ns: "int",
				    change: "string", took_ns: "int", select: "array" } },
	  "route": { id: true, opt: { spec: "string", late_ns: "int", apply_ns: "int",
				      change: "string", took_ns: "int", select: "array" } },
	  "link-down": { id: true, opt: { change: "string", took_ns: "int", flap: "bool" } },
	  "link-up": { id: true, opt: { change: "string", took_ns: "int", flap: "bool" } },
	  "flap-end": { id: true },
	  "node-join": { id: true, req: { change: "string", took_ns: "int" } },
	  "node-leave": { id: true, req: { change: "string", took_ns: "int" } },
	  "fault-add": { id: true, req: { fault: "object" } },
	  "fault-change": { id: true, req: { fault: "object" } },
	  "fault-del": { id: true, req: { fault: "object" }, opt: { counters: "object" } },
	  "fault-expired": { id: true, req: { fault: "object" }, opt: { counters: "object" } },
	  "admin-add": { id: true, req: { admin: "object" } },
	  "admin-del": { id: true, req: { admin: "object" } } };

def common: ["mono_ns", "wall_ns", "event", "id"];

def problems:
	. as $e
	| if type != "object" then "not an object"
	  else
		(keys_unsorted) as $k
		| (if $k[0:3] != common[0:3] then "must begin with mono_ns, wall_ns, event" else empty end),
		  (if ($e.mono_ns | typeok("int")) then empty else "mono_ns is not an integer" end),
		  (if ($e.wall_ns | typeok("int")) and $e.wall_ns > 1e18 then empty
		   else "wall_ns is not ns since the epoch" end),
		  (schema[$e.event | tostring]) as $s
		  | if $s == null then "unknown event \($e.event | tojson)"
		    else
			(if $e | has("id") then
				(if $k[3] != "id" then "id is not the fourth member"
				 elif ($e.id | type) != "string" or $e.id == "" then "id is not a non-empty string"
				 else empty end)
			 elif $s.id then "no id"
			 else empty end),
			(($s.req // {}) | to_entries[] | .key as $m | .value as $t
			 | if ($e | has($m) | not) then "no \($m)"
			   elif ($e[$m] | typeok($t) | not) then "\($m) is not \($t)"
			   else empty end),
			($k[] | . as $m | select(any(common[]; . == $m) | not)
			 | (($s.req // {})[$m] // ($s.opt // {})[$m]) as $t
			 | if $t == null then "\($m) is not a member of \($e.event)"
			   elif ($e[$m] | typeok($t) | not) then "\($m) is not \($t)"
			   else empty end)
		    end
	  end;

. as $line | problems | "\(input_line_number): \(.): \($line | tojson)"
