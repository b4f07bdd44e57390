#!/usr/bin/env bash
# netlab.sh: a network lab of twelve hosts on one Linux machine, to try the fabric across hosts,
# firewalls (issue 14) and NATs (issue 15). Every host is a network namespace; every network is a bridge in a namespace
# of its own; nothing of the lab lives in the machine's own namespace, so no lab packet can reach
# the machine's real network (there is no veth to it, no default route, no NAT out of the lab).
#
#   public     10.14.1.10                the registry's host
#   desktop    10.14.1.20                where the user sits
#   gateway    10.14.1.1   10.14.2.1     on the public network and on the site network
#   head       10.14.2.10  10.14.3.1     on the site network and on the cluster network
#   compute-1  10.14.3.11                on the cluster network
#   compute-2  10.14.3.12                on the cluster network
#   nat-1      10.14.1.31  10.14.4.1     a NAT router between the public network and home network 1
#   home-1     10.14.4.10                behind nat-1
#   nat-2      10.14.1.32  10.14.5.1     a NAT router between the public network and home network 2
#   home-2     10.14.5.10                behind nat-2
#   nat-3      10.14.4.3   10.14.6.1     a NAT router on home network 1, in front of home network 3
#   home-3     10.14.6.10                behind nat-3 and nat-1: two NATs in a row
#
# Routing, as the seed's story has it (desktop -> gateway -> head node -> compute node):
#   - desktop, gateway and public share the public network 10.14.1.0/24;
#   - head is reachable only from gateway (site network 10.14.2.0/24);
#   - compute-1 and compute-2 are reachable only from head (cluster network 10.14.3.0/24);
#   - head reaches the public network (the registry) through gateway, which forwards connections
#     from the site network outwards and only their replies back in;
#   - the compute nodes reach nothing beyond the cluster network: head does not forward. A member
#     there reaches the registry only through a bridge member on head.
#   - home-N reaches the public network through nat-N, which masquerades it (iptables MASQUERADE):
#     the public network sees it as nat-N's public address and has no route to the home networks.
#     home-3's connections are masqueraded twice, by nat-3 and then by nat-1.
#
# NAT variants (issue 15, TCP splicing), per NAT router, set with `nat ROUTER VARIANT`:
#   easy       endpoint-independent mapping (the same public port for the same inside port, whatever
#              the destination), unsolicited inbound SYNs dropped; the default
#   resetting  as easy, but unsolicited inbound SYNs are answered with a reset
#   symmetric  a new random public port for every connection (MASQUERADE --random-fully), unsolicited
#              inbound SYNs dropped
#   --latency MS adds that delay (tc netem) to every packet the router sends out of its public side.
#   --rate MBIT limits the home's access link to that rate both ways (tc tbf on the router's public
#              and home sides); 0, the default, leaves the link unlimited.
#
# Connectivity modes (the seed's "Dealing with different connectivity issues"), per host, on the
# service port range (default 1024:65535; SSH on port 22 stays open in every mode):
#   1  no firewall
#   2  firewall *to* the service: new inbound TCP connections to the range are dropped (no reset:
#      the caller times out)
#   3  firewall *from* the service: new outbound TCP connections to the range are dropped, except to
#      the destinations the seed assumes always reachable (default: the registry's host, public;
#      --allow adds or replaces them)
#   4  both (2 and 3)
#
# Usage: netlab.sh [--prefix P] [--dir D] COMMAND [ARGS...]
#   up [--mode HOST=N]...      build the lab (tears down a leftover of the same prefix first)
#   down                       remove every namespace, link, rule, sshd and file of the lab;
#                              safe to repeat, and after a failed run
#   status                     hosts, addresses, modes, sshd; exit 3 when the lab is not up
#   addresses                  one line per host and network: HOST NETWORK ADDRESS
#   address HOST [FROM]        the address at which FROM (default: desktop) reaches HOST
#   exec HOST CMD [ARGS...]    run a command inside a host (ip netns exec)
#   mode HOST 1|2|3|4 [--ports LOW:HIGH] [--allow HOST|ADDR[:PORT]]...
#                              set a host's connectivity mode
#   cut HOST HOST              cut the link between two neighbours (each drops the other's frames)
#   restore HOST HOST          undo cut
#   nat ROUTER easy|resetting|symmetric [--latency MS] [--rate MBIT]
#                              set a NAT router's variant (new connections follow it)
#   probe FROM HOST|ADDR PORT [--timeout SECONDS]
#                              try a TCP connection from FROM; prints open, refused, timeout or
#                              unreachable
#   ssh FROM HOST [CMD...]     ssh from one host to another with the lab's key and known_hosts
#   env                        the lab's files, as shell variables
#
# Files (default /run/fabric-lab/PREFIX, root only):
#   ssh/id_ed25519, ssh/id_ed25519.pub   the key every host's sshd accepts for root
#   ssh/authorized_keys, ssh/known_hosts  (known_hosts names every host by name and addresses)
#   ssh/HOST/                            that host's sshd: config, host key, pid file, log
#   home/                                the HOME of every login (sshd's SetEnv): bash reads its
#                                        .bashrc before each command, not the machine account's
#   mode/HOST                            the host's mode as set
#   nat/ROUTER                           the NAT router's variant, latency and rate as set
# Inside a host, /etc/hosts names the other hosts at the address that host reaches them on
# (ip netns exec mounts /etc/netns/NAMESPACE/hosts there).
set -euo pipefail

prefix=${FABRIC_LAB_PREFIX:-fablab}
dir=

say() { printf 'netlab: %s\n' "$*" >&2; }
die() { printf 'netlab: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a name}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --dir) dir=${2:?--dir needs a path}; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    *) break ;;
  esac
done
[[ "$prefix" =~ ^[a-z][a-z0-9]{1,15}$ ]] || die "the prefix '$prefix' must be 2 to 16 lower-case letters and digits, starting with a letter"
dir=${dir:-${FABRIC_LAB_DIR:-/run/fabric-lab/$prefix}}

HOSTS=(public desktop gateway head compute-1 compute-2 nat-1 home-1 nat-2 home-2 nat-3 home-3)
NETWORKS=(public site cluster home1 home2 home3)
declare -A SUBNET=([public]=10.14.1 [site]=10.14.2 [cluster]=10.14.3 [home1]=10.14.4 [home2]=10.14.5 [home3]=10.14.6)
# "HOST:NETWORK" -> last octet
declare -A OCTET=(
  [public:public]=10 [desktop:public]=20 [gateway:public]=1
  [gateway:site]=1 [head:site]=10
  [head:cluster]=1 [compute-1:cluster]=11 [compute-2:cluster]=12
  [nat-1:public]=31 [nat-1:home1]=1 [home-1:home1]=10
  [nat-2:public]=32 [nat-2:home2]=1 [home-2:home2]=10
  [nat-3:home1]=3 [nat-3:home3]=1 [home-3:home3]=10
)
# Routes a host has beyond its own networks: "NETWORK via HOST".
declare -A ROUTES=([head]="public:gateway" [public]="site:gateway"
  [home-1]="public:nat-1" [home-2]="public:nat-2" [nat-3]="public:nat-1" [home-3]="public:nat-3")
# NAT routers: their outside (WAN) and inside (LAN) networks.
declare -A NAT_WAN=([nat-1]=public [nat-2]=public [nat-3]=home1)
declare -A NAT_LAN=([nat-1]=home1 [nat-2]=home2 [nat-3]=home3)
DEFAULT_PORTS=1024:65535

ns() { printf '%s-%s' "$prefix" "$1"; }
switch_ns() { printf '%s-net-%s' "$prefix" "$1"; }
all_namespaces() {
  local h n
  for h in "${HOSTS[@]}"; do ns "$h"; echo; done
  for n in "${NETWORKS[@]}"; do switch_ns "$n"; echo; done
}
is_host() { local h; for h in "${HOSTS[@]}"; do [ "$h" = "$1" ] && return 0; done; return 1; }
is_nat() { [ -n "${NAT_WAN[$1]:-}" ]; }
need_host() { is_host "$1" || die "no host '$1' in the lab; the hosts are: ${HOSTS[*]}"; }
networks_of() { local n; for n in "${NETWORKS[@]}"; do [ -n "${OCTET[$1:$n]:-}" ] && echo "$n"; done; return 0; }
addr() { echo "${SUBNET[$2]}.${OCTET[$1:$2]}"; }
# The network two hosts share, if any.
shared_network() { local n; for n in $(networks_of "$1"); do [ -n "${OCTET[$2:$n]:-}" ] && { echo "$n"; return 0; }; done; return 1; }
# The address at which FROM reaches HOST: on a network they share, else HOST's first address.
reach_address() {
  local host=$1 from=$2 net
  if net=$(shared_network "$host" "$from"); then addr "$host" "$net"; return; fi
  addr "$host" "$(networks_of "$host" | head -n 1)"
}
lab_is_up() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$(ns desktop)"; }
in_ns() { local n=$1; shift; ip netns exec "$n" "$@"; }
ipt() { local h=$1; shift; ip netns exec "$(ns "$h")" iptables -w "$@"; }

need_root_tools() {
  [ "$(id -u)" = 0 ] || die "the lab needs root (network namespaces and iptables); run it with sudo"
  local missing=() tool
  for tool in ip iptables ssh-keygen ssh; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  [ -x /usr/sbin/sshd ] || missing+=(sshd)
  [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}; install Debian's iproute2 iptables openssh-server (bash .ci/run or docker/base/rig.sh does)"
}

down() {
  local n pids
  for n in $(all_namespaces); do
    [ -e "/run/netns/$n" ] || continue
    # Every process of the lab runs inside one of its namespaces: sshd, members, anything started with exec.
    pids=$(ip netns pids "$n" 2>/dev/null || true)
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  done
  for n in $(all_namespaces); do
    if [ -e "/run/netns/$n" ]; then
      ip netns del "$n" 2>/dev/null || { sleep 0.2; ip netns del "$n"; }
    fi
    rm -rf "/etc/netns/$n"
  done
  rm -rf "$dir"
}

link_host() {
  local host=$1 net=$2 h_ns sw
  h_ns=$(ns "$host"); sw=$(switch_ns "$net")
  ip -n "$h_ns" link add "eth-$net" type veth peer name "$host" netns "$sw"
  ip -n "$sw" link set "$host" master br0
  ip -n "$sw" link set "$host" up
  ip -n "$h_ns" addr add "$(addr "$host" "$net")/24" dev "eth-$net"
  ip -n "$h_ns" link set "eth-$net" up
}

firewall_base() {
  local host=$1
  ipt "$host" -N FABLAB-IN
  ipt "$host" -N FABLAB-OUT
  ipt "$host" -A INPUT -j FABLAB-IN
  ipt "$host" -A OUTPUT -j FABLAB-OUT
  ipt "$host" -t raw -N FABLAB-CUT
  ipt "$host" -t raw -A PREROUTING -j FABLAB-CUT
}

start_sshd() {
  local host=$1 d="$dir/ssh/$1" net
  mkdir -p "$d" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C "root@$host" -f "$d/ssh_host_ed25519_key"
  {
    echo "Port 22"
    for net in $(networks_of "$host"); do echo "ListenAddress $(addr "$host" "$net")"; done
    echo "HostKey $d/ssh_host_ed25519_key"
    echo "PidFile $d/sshd.pid"
    echo "AuthorizedKeysFile $dir/ssh/authorized_keys"
    echo "PermitRootLogin prohibit-password"
    echo "PubkeyAuthentication yes"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "UsePAM no"
    echo "StrictModes no"
    echo "UseDNS no"
    echo "PrintMotd no"
    echo "Subsystem sftp /usr/lib/openssh/sftp-server"
    # OpenSSH runs every command through the account's shell, and bash reads ~/.bashrc first: root's
    # start-up files on this machine would run before each command the spawners send (and a slow or
    # hanging one, such as a pyenv set-up waiting on a stale lock, slows or stops every command).
    echo "SetEnv HOME=$dir/home"
  } >"$d/sshd_config"
  in_ns "$(ns "$host")" /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" \
    || die "sshd did not start on $host; see $d/sshd.log"
}

write_hosts_files() {
  local from to n
  for from in "${HOSTS[@]}"; do
    n=$(ns "$from")
    mkdir -p "/etc/netns/$n"
    {
      echo "127.0.0.1 localhost"
      # The hosts share the machine's host name (no UTS namespace): it names each host's own
      # address there, as InetAddress.getLocalHost() expects.
      echo "$(addr "$from" "$(networks_of "$from" | head -n 1)") $from $(hostname)"
      for to in "${HOSTS[@]}"; do [ "$to" = "$from" ] || echo "$(reach_address "$to" "$from") $to"; done
    } >"/etc/netns/$n/hosts"
  done
}

write_known_hosts() {
  local host names net
  : >"$dir/ssh/known_hosts"
  for host in "${HOSTS[@]}"; do
    names=$host
    for net in $(networks_of "$host"); do names="$names,$(addr "$host" "$net")"; done
    echo "$names $(cut -d' ' -f1,2 "$dir/ssh/$host/ssh_host_ed25519_key.pub")" >>"$dir/ssh/known_hosts"
  done
}

up() {
  local modes=() spec host net via n
  while [ $# -gt 0 ]; do
    case "$1" in
      --mode) modes+=("${2:?--mode needs HOST=N}"); shift 2 ;;
      --mode=*) modes+=("${1#--mode=}"); shift ;;
      *) die "up: unknown option '$1'" ;;
    esac
  done
  need_root_tools
  down
  trap 'say "up failed; tearing the lab down"; down' ERR
  mkdir -p "$dir/ssh" "$dir/mode" "$dir/nat"
  chmod 700 "$dir" "$dir/ssh"
  for n in $(all_namespaces); do
    ip netns add "$n"
    ip -n "$n" link set lo up
  done
  for net in "${NETWORKS[@]}"; do
    n=$(switch_ns "$net")
    ip -n "$n" link add br0 type bridge
    ip -n "$n" link set br0 up
  done
  for host in "${HOSTS[@]}"; do
    for net in $(networks_of "$host"); do link_host "$host" "$net"; done
    firewall_base "$host"
    echo 1 >"$dir/mode/$host"
  done
  for host in "${!ROUTES[@]}"; do
    net=${ROUTES[$host]%%:*}; via=${ROUTES[$host]#*:}
    ip -n "$(ns "$host")" route add "${SUBNET[$net]}.0/24" via "$(addr "$via" "$(shared_network "$host" "$via")")"
  done
  # gateway forwards what the site network opens towards the public network, and only the replies back.
  in_ns "$(ns gateway)" sysctl -q -w net.ipv4.ip_forward=1
  ipt gateway -P FORWARD DROP
  ipt gateway -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ipt gateway -A FORWARD -i eth-site -o eth-public -j ACCEPT
  for host in "${!NAT_WAN[@]}"; do nat_base "$host"; set_nat "$host" easy; done

  ssh-keygen -q -t ed25519 -N '' -C "fabric-lab-$prefix" -f "$dir/ssh/id_ed25519"
  mkdir -p -m 700 "$dir/home"
  cp "$dir/ssh/id_ed25519.pub" "$dir/ssh/authorized_keys"
  # Before sshd starts: ip netns exec mounts a host's /etc/hosts when it starts a process.
  write_hosts_files
  for host in "${HOSTS[@]}"; do start_sshd "$host"; done
  write_known_hosts
  trap - ERR
  for spec in ${modes[@]+"${modes[@]}"}; do set_mode "${spec%%=*}" "${spec#*=}"; done
  say "up: prefix $prefix, files in $dir"
  status
}

set_mode() {
  local host=$1 mode=${2:-} ports=$DEFAULT_PORTS allow=() allow_given=0 a target port
  shift 2 || true
  need_host "$host"
  case "$mode" in 1|2|3|4) ;; *) die "mode must be 1 (no firewall), 2 (firewall to the service), 3 (firewall from the service) or 4 (both), not '$mode'" ;; esac
  while [ $# -gt 0 ]; do
    case "$1" in
      --ports) ports=${2:?--ports needs LOW:HIGH}; shift 2 ;;
      --allow) allow+=("${2:?--allow needs HOST or ADDRESS[:PORT]}"); allow_given=1; shift 2 ;;
      *) die "mode: unknown option '$1'" ;;
    esac
  done
  [[ "$ports" =~ ^[0-9]+:[0-9]+$ ]] || die "--ports must be LOW:HIGH, not '$ports'"
  [ "$allow_given" = 1 ] || allow=(public)
  lab_is_up || die "the lab (prefix $prefix) is not up; start it with: netlab.sh up"
  ipt "$host" -F FABLAB-IN
  ipt "$host" -F FABLAB-OUT
  if [ "$mode" = 2 ] || [ "$mode" = 4 ]; then
    ipt "$host" -A FABLAB-IN -i lo -j RETURN
    ipt "$host" -A FABLAB-IN -p tcp --syn --dport "$ports" -m conntrack --ctstate NEW \
      -m comment --comment "mode 2: firewall to the service" -j DROP
  fi
  if [ "$mode" = 3 ] || [ "$mode" = 4 ]; then
    ipt "$host" -A FABLAB-OUT -o lo -j RETURN
    for a in "${allow[@]}"; do
      target=${a%%:*}; port=
      [ "$target" = "$a" ] || port=${a#*:}
      if is_host "$target"; then target=$(reach_address "$target" "$host"); fi
      if [ -n "$port" ]; then
        ipt "$host" -A FABLAB-OUT -p tcp -d "$target" --dport "$port" -j RETURN
      else
        ipt "$host" -A FABLAB-OUT -p tcp -d "$target" -j RETURN
      fi
    done
    ipt "$host" -A FABLAB-OUT -p tcp --syn --dport "$ports" -m conntrack --ctstate NEW \
      -m comment --comment "mode 3: firewall from the service" -j DROP
  fi
  {
    echo "$mode"
    [ "$mode" = 1 ] || echo "ports $ports"
    if [ "$mode" = 3 ] || [ "$mode" = 4 ]; then echo "allow ${allow[*]}"; fi
  } >"$dir/mode/$host"
}

# A NAT router forwards what its inside network opens towards the outside and only the replies back,
# masquerading the inside addresses; the variant's rules live in chains of their own.
nat_base() {
  local host=$1 wan="eth-${NAT_WAN[$1]}" lan="eth-${NAT_LAN[$1]}"
  in_ns "$(ns "$host")" sysctl -q -w net.ipv4.ip_forward=1
  ipt "$host" -P FORWARD DROP
  ipt "$host" -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ipt "$host" -A FORWARD -i "$lan" -o "$wan" -j ACCEPT
  ipt "$host" -t nat -N FABLAB-NAT
  ipt "$host" -t nat -A POSTROUTING -o "$wan" -j FABLAB-NAT
  ipt "$host" -N FABLAB-NAT-IN
  ipt "$host" -I INPUT 1 -i "$wan" -j FABLAB-NAT-IN
}

set_nat() {
  local host=$1 variant=${2:-} latency=0 rate=0 wan lan
  shift 2 || true
  while [ $# -gt 0 ]; do
    case "$1" in
      --latency) latency=${2:?--latency needs milliseconds}; shift 2 ;;
      --latency=*) latency=${1#--latency=}; shift ;;
      --rate) rate=${2:?--rate needs a rate in Mbit/s}; shift 2 ;;
      --rate=*) rate=${1#--rate=}; shift ;;
      *) die "nat: unknown option '$1'" ;;
    esac
  done
  need_host "$host"
  is_nat "$host" || die "$host is no NAT router; the NAT routers are: ${!NAT_WAN[*]}"
  case "$variant" in easy|resetting|symmetric) ;; *) die "a NAT is easy, resetting or symmetric, not '$variant'" ;; esac
  [[ "$latency" =~ ^[0-9]+$ ]] || die "--latency must be whole milliseconds, not '$latency'"
  [[ "$rate" =~ ^[0-9]+$ ]] && [ "$rate" -le 100000 ] || die "--rate must be whole Mbit/s from 0 (no limit) to 100000, not '$rate'"
  lab_is_up || die "the lab (prefix $prefix) is not up; start it with: netlab.sh up"
  wan="eth-${NAT_WAN[$host]}"; lan="eth-${NAT_LAN[$host]}"
  ipt "$host" -t nat -F FABLAB-NAT
  ipt "$host" -F FABLAB-NAT-IN
  if [ "$variant" = symmetric ]; then
    # A fresh random port for every connection: the port a peer learns from the broker is useless.
    ipt "$host" -t nat -A FABLAB-NAT -j MASQUERADE --random-fully -m comment --comment "symmetric NAT"
  else
    # Linux keeps the inside port when it is free: the same public port for every destination.
    ipt "$host" -t nat -A FABLAB-NAT -j MASQUERADE -m comment --comment "endpoint-independent mapping"
  fi
  # What reaches the router's own address from outside: replies, and SSH to the router itself.
  ipt "$host" -A FABLAB-NAT-IN -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  ipt "$host" -A FABLAB-NAT-IN -p tcp --dport 22 -j RETURN
  if [ "$variant" = resetting ]; then
    ipt "$host" -A FABLAB-NAT-IN -p tcp -m comment --comment "resetting NAT" -j REJECT --reject-with tcp-reset
  else
    ipt "$host" -A FABLAB-NAT-IN -p tcp -m comment --comment "unsolicited SYNs dropped" -j DROP
  fi
  in_ns "$(ns "$host")" tc qdisc del dev "$wan" root 2>/dev/null || true
  in_ns "$(ns "$host")" tc qdisc del dev "$lan" root 2>/dev/null || true
  if [ "$latency" != 0 ]; then
    in_ns "$(ns "$host")" tc qdisc replace dev "$wan" root handle 1: netem delay "${latency}ms" \
      || die "tc netem failed on $host (is the kernel module sch_netem available?)"
  fi
  if [ "$rate" != 0 ]; then
    # The home's access link, both ways: what the router sends out of its public side (the home's upload) and
    # into its home network (its download), each through a token bucket of that rate (tc tbf). The bucket
    # holds 10 ms of the rate (at least 64 KiB, so one GSO segment fits), the queue 50 ms.
    local burst=$(( rate * 1250 > 65536 ? rate * 1250 : 65536 )) parent
    for dev in "$wan" "$lan"; do
      parent=root
      if [ "$dev" = "$wan" ] && [ "$latency" != 0 ]; then parent="parent 1:1"; fi
      in_ns "$(ns "$host")" tc qdisc replace dev "$dev" $parent tbf rate "${rate}mbit" burst "$burst" latency 50ms \
        || die "tc tbf failed on $host (is the kernel module sch_tbf available?)"
    done
  fi
  printf '%s\nlatency %sms\nrate %s\n' "$variant" "$latency" "$( [ "$rate" = 0 ] && echo unlimited || echo "${rate} Mbit/s")" >"$dir/nat/$host"
}

mac_of() { ip -n "$(ns "$1")" -br link show dev "eth-$2" | awk '{print $3}'; }

cut_link() {
  local action=$1 a=$2 b=$3 net from to mac
  need_host "$a"; need_host "$b"
  lab_is_up || die "the lab (prefix $prefix) is not up; start it with: netlab.sh up"
  net=$(shared_network "$a" "$b") || die "$a and $b share no network, so no link joins them; cut a link between neighbours (desktop-gateway, public-gateway, gateway-head, head-compute-1, head-compute-2, ...)"
  for pair in "$a $b" "$b $a"; do
    read -r to from <<<"$pair"
    mac=$(mac_of "$from" "$net")
    local rule=(FABLAB-CUT -i "eth-$net" -m mac --mac-source "$mac" -m comment --comment "cut $from" -j DROP)
    if [ "$action" = cut ]; then
      ipt "$to" -t raw -C "${rule[@]}" 2>/dev/null || ipt "$to" -t raw -A "${rule[@]}"
    else
      while ipt "$to" -t raw -C "${rule[@]}" 2>/dev/null; do ipt "$to" -t raw -D "${rule[@]}"; done
    fi
  done
}

probe() {
  local from=$1 target=$2 port=$3 timeout=3 out rc
  shift 3
  while [ $# -gt 0 ]; do
    case "$1" in
      --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
      *) die "probe: unknown option '$1'" ;;
    esac
  done
  need_host "$from"
  if is_host "$target"; then target=$(reach_address "$target" "$from"); fi
  set +e
  out=$(in_ns "$(ns "$from")" timeout "$timeout" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$target" "$port" 2>&1)
  rc=$?
  set -e
  if [ $rc = 0 ]; then echo open
  elif [ $rc = 124 ]; then echo timeout
  elif [[ "$out" == *"refused"* ]]; then echo refused
  elif [[ "$out" == *"unreachable"* || "$out" == *"No route"* ]]; then echo unreachable
  else die "probe from $from to $target:$port: $out"
  fi
}

status() {
  lab_is_up || { echo "the lab (prefix $prefix) is not up; start it with: netlab.sh up"; return 3; }
  local host addrs net sshd mode
  printf '%-10s %-26s %-6s %s\n' HOST ADDRESSES MODE SSHD
  for host in "${HOSTS[@]}"; do
    addrs=
    for net in $(networks_of "$host"); do addrs="$addrs$(addr "$host" "$net") "; done
    sshd=down
    if [ -f "$dir/ssh/$host/sshd.pid" ] && kill -0 "$(cat "$dir/ssh/$host/sshd.pid")" 2>/dev/null; then sshd="up (port 22)"; fi
    mode=$(tr '\n' ' ' <"$dir/mode/$host" 2>/dev/null || echo '?')
    printf '%-10s %-26s %-6s %s\n' "$host" "$addrs" "${mode%% *}" "$sshd"
    [ "${mode#* }" = "$mode" ] || [ -z "${mode#* }" ] || printf '%-10s   %s\n' '' "${mode#* }"
    if is_nat "$host"; then printf '%-10s   NAT %s\n' '' "$(tr '\n' ' ' <"$dir/nat/$host" 2>/dev/null || echo '?')"; fi
  done
  echo "files: $dir (ssh key $dir/ssh/id_ed25519, known hosts $dir/ssh/known_hosts)"
}

command=${1:-help}
[ $# -gt 0 ] && shift
case "$command" in
  up) up "$@" ;;
  down) need_root_tools; down; say "down: nothing of the lab $prefix is left" ;;
  status) status ;;
  addresses)
    for host in "${HOSTS[@]}"; do for net in $(networks_of "$host"); do echo "$host $net $(addr "$host" "$net")"; done; done ;;
  address)
    need_host "${1:?address needs HOST}"; need_host "${2:-desktop}"
    reach_address "$1" "${2:-desktop}" ;;
  exec)
    host=${1:?exec needs HOST CMD}; shift; need_host "$host"
    [ $# -gt 0 ] || die "exec needs a command to run on $host"
    exec ip netns exec "$(ns "$host")" "$@" ;;
  mode) [ $# -ge 2 ] || die "mode needs HOST and 1|2|3|4"; set_mode "$@" ;;
  nat) [ $# -ge 2 ] || die "nat needs ROUTER and easy|resetting|symmetric"; set_nat "$@" ;;
  cut|restore) [ $# = 2 ] || die "$command needs two hosts"; cut_link "$command" "$1" "$2" ;;
  probe) [ $# -ge 3 ] || die "probe needs FROM HOST|ADDRESS PORT"; probe "$@" ;;
  ssh)
    from=${1:?ssh needs FROM HOST}; to=${2:?ssh needs FROM HOST}; shift 2; need_host "$from"
    exec ip netns exec "$(ns "$from")" ssh -i "$dir/ssh/id_ed25519" -o UserKnownHostsFile="$dir/ssh/known_hosts" \
      -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 "root@$to" "$@" ;;
  env)
    echo "FABRIC_LAB_PREFIX=$prefix"
    echo "FABRIC_LAB_DIR=$dir"
    echo "FABRIC_LAB_SSH_KEY=$dir/ssh/id_ed25519"
    echo "FABRIC_LAB_KNOWN_HOSTS=$dir/ssh/known_hosts" ;;
  help|-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$command' (netlab.sh help lists them)" ;;
esac
