# SPDX-License-Identifier: MIT
# Simulated hosts for runs over an inventory (agent-run.bats): a
# controller namespace C with a bridge on 198.18.250.1/24 and hosts
# H1..HN, each a namespace on that bridge at 198.18.250.(K+1), each with
# its own sshd on port 2222 (keys of this test's own) and, with
# hosts_etcd, an etcd member listening on its address. The controller
# (fallacy run) runs in C; everything is reachable only inside the test.
# Needs: TMP (a folder of the test's), FALLACY, FALLACY_RUN_DIR.

hosts_up() {
	local n=$1 sshd=${2:-sshd} s=$$$((RANDOM % 100)) k
	HOSTS_N=$n C=arc$s
	ip netns add "$C"
	ip -n "$C" link add br0 type bridge
	ip -n "$C" addr add 198.18.250.1/24 dev br0
	ip -n "$C" link set br0 up
	ip -n "$C" link set lo up
	for k in $(seq 1 "$n"); do
		eval "H$k=arh$s$k"
		local h="arh$s$k"
		ip netns add "$h"
		ip link add "ar$s$k" netns "$C" type veth peer name eth0 netns "$h"
		ip -n "$C" link set "ar$s$k" master br0 up
		ip -n "$h" addr add "198.18.250.$((k + 1))/24" dev eth0
		ip -n "$h" link set eth0 up
		ip -n "$h" link set lo up
	done
	[ "$sshd" = sshd ] || return 0
	hosts_keys
	for k in $(seq 1 "$n"); do
		hosts_sshd "$k"
	done
}

# Kubernetes without a cluster, on hosts_up N nosshd: host K's namespace
# is pod etcd-K (namespace db, label app=etcd, role=ROLE_K from
# $POD_ROLES, its IP the host's address), its processes (a pause, and
# etcd member K when hosts_etcd ran) in the pod's cgroup (cgroupfs layout,
# test_helper/pods.bash); the pod runs on node wK, a namespace of its own
# where agent pod fallacy-agent-K runs (the kubectl stand-in's exec).
# Needs pods_setup; writes $TMP/pods.json, nodes, contexts and
# $TMP/inventory.yaml (role_label: role).
hosts_pods() {
	local k uid roles etcd items=()
	read -r -a roles <<<"${POD_ROLES:-x x x}"
	read -r -a etcd <<<"${ETCD_PIDS:-}"
	mkdir -p "$TMP/bin"
	ln -sf "$BATS_TEST_DIRNAME/test_helper/kubectl-standin" "$TMP/bin/kubectl"
	export PATH="$TMP/bin:$PATH" FL_KUBECTL_DIR=$TMP
	: >"$TMP/nodes"
	for k in $(seq 1 "$HOSTS_N"); do
		eval "W$k=${C}w$k"
		ip netns add "${C}w$k"
		echo "w$k ${C}w$k" >>"$TMP/nodes"
		uid=$(cat /proc/sys/kernel/random/uuid)
		eval "UID$k=$uid"
		in_cgroup "$(host_ns "$k")" "$(cgroupfs_pod "$uid")/pause"
		if [ -n "${etcd[$((k - 1))]:-}" ]; then # member K: a container of pod K
			mkdir -p "$(cgroupfs_pod "$uid")/etcd"
			echo "${etcd[$((k - 1))]}" >"$(cgroupfs_pod "$uid")/etcd/cgroup.procs"
		fi
		items+=("$(jq -n --arg k "$k" --arg uid "$uid" --arg ip "$(host_ip "$k")" \
			--arg role "${roles[$((k - 1))]}" '[
			{metadata: {name: "fallacy-agent-\($k)", namespace: "fallacy",
				    labels: {"app.kubernetes.io/name": "fallacy-agent"},
				    uid: "a0000000-0000-4000-8000-00000000000\($k)"},
			 spec: {nodeName: "w\($k)"}, status: {phase: "Running"}},
			{metadata: {name: "etcd-\($k)", namespace: "db", labels: {app: "etcd", role: $role},
				    uid: $uid},
			 spec: {nodeName: "w\($k)"}, status: {phase: "Running", podIP: $ip}}]')")
	done
	printf '%s\n' "${items[@]}" | jq -s '{kind: "List", items: add}' >"$TMP/pods.json"
	cat >"$TMP/inventory.yaml" <<-EOF
		kubernetes:
		  namespace: db
		  selector: app=etcd
		  role_label: role
		  remote: env FALLACY_RUN_DIR=$FALLACY_RUN_DIR $FALLACY agent --stdio
	EOF
}

host_ns() {
	eval "echo \$H$1"
}

host_ip() {
	echo "198.18.250.$(($1 + 1))"
}

hosts_keys() {
	ssh-keygen -q -t ed25519 -N '' -C host -f "$TMP/host_key"
	ssh-keygen -q -t ed25519 -N '' -C controller -f "$TMP/id"
	cp "$TMP/id.pub" "$TMP/authorized_keys"
	: >"$TMP/known_hosts"
	mkdir -p /run/sshd
}

# sshd of host K on its address, port 2222; its pid in SSHD_PIDS.
hosts_sshd() {
	local k=$1 ip
	ip=$(host_ip "$k")
	sed "s/@IP@/$ip/; s|@TMP@|$TMP|g; s/@K@/$k/" >"$TMP/sshd_config$k" <<-'EOF'
		ListenAddress @IP@:2222
		HostKey @TMP@/host_key
		PidFile @TMP@/sshd@K@.pid
		AuthorizedKeysFile @TMP@/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
	EOF
	ip netns exec "$(host_ns "$k")" /usr/sbin/sshd -D -e -f "$TMP/sshd_config$k" \
		2>"$TMP/sshd$k.log" &
	SSHD_PIDS="${SSHD_PIDS:-} $!"
	fl_wait_until 20 fl_listening "$(host_ns "$k")" t 2222
	echo "[$ip]:2222 $(cut -d' ' -f1,2 "$TMP/host_key.pub")" >>"$TMP/known_hosts"
}

# An inventory of the hosts over ssh (each host's own namespace is the
# agent's target), in $TMP/inventory.yaml.
hosts_inventory() {
	local k
	echo "hosts:" >"$TMP/inventory.yaml"
	for k in $(seq 1 "$HOSTS_N"); do
		cat >>"$TMP/inventory.yaml" <<-EOF
			  - name: host$k
			    ssh: root@$(host_ip "$k")
			    ssh_options: [Port=2222, IdentityFile=$TMP/id, IdentitiesOnly=yes,
			      UserKnownHostsFile=$TMP/known_hosts, GlobalKnownHostsFile=/dev/null,
			      StrictHostKeyChecking=yes, ConnectTimeout=20]
			    remote: env FALLACY_RUN_DIR=$FALLACY_RUN_DIR $FALLACY agent --stdio
			    netns: $(host_ns "$k")
			    address: $(host_ip "$k")
		EOF
	done
}

# A 3-member etcd, member K on host K (started by "the user's tooling":
# this function), healthy before it returns.
hosts_etcd() {
	local k ip cluster=""
	for k in $(seq 1 "$HOSTS_N"); do
		cluster="$cluster${cluster:+,}n$k=http://$(host_ip "$k"):2380"
	done
	for k in $(seq 1 "$HOSTS_N"); do
		ip=$(host_ip "$k")
		mkdir -p "$TMP/etcd$k"
		ip netns exec "$(host_ns "$k")" etcd --name "n$k" --data-dir "$TMP/etcd$k" \
			--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
			--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
			--initial-cluster "$cluster" --initial-cluster-state new \
			--initial-cluster-token "fallacy-$C" \
			--heartbeat-interval 100 --election-timeout 1000 >"$TMP/etcd$k.log" 2>&1 &
		ETCD_PIDS="${ETCD_PIDS:-} $!"
	done
	fl_wait_until 60 hosts_etcd_healthy
}

hosts_etcd_endpoints() {
	local k e=""
	for k in $(seq 1 "$HOSTS_N"); do
		e="$e${e:+,}http://$(host_ip "$k"):2379"
	done
	echo "$e"
}

hosts_etcd_healthy() {
	ip netns exec "$C" env ETCDCTL_API=3 etcdctl --endpoints "$(hosts_etcd_endpoints)" \
		--command-timeout 2s endpoint health >/dev/null 2>&1
}

# The shipped etcd-by-ip target: its clients reach the members by address
# (the controller has no hosts file naming them).
hosts_etcd_target() {
	cp "$BATS_TEST_DIRNAME/../../scenarios/targets/etcd-by-ip.yaml" "$TMP/etcd.yaml"
}

hosts_down() {
	local p k
	for p in ${ETCD_PIDS:-}; do kill "$p" 2>/dev/null || true; done
	for p in ${SSHD_PIDS:-}; do kill "$p" 2>/dev/null || true; done
	for p in ${ETCD_PIDS:-}; do wait "$p" 2>/dev/null || true; done
	ETCD_PIDS='' SSHD_PIDS=''
	for k in $(seq 1 "${HOSTS_N:-0}"); do
		ip netns del "$(host_ns "$k")" 2>/dev/null || true
		ip netns del "${C}w$k" 2>/dev/null || true
	done
	[ -n "${C:-}" ] && ip netns del "$C" 2>/dev/null
	return 0
}
