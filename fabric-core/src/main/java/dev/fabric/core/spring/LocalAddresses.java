package dev.fabric.core.spring;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/** The names and addresses under which this host can be reached: loopback, every interface address, its host name. */
final class LocalAddresses {

    private LocalAddresses() {}

    /** Hosts in authority form: lower case, IPv6 in brackets without a zone. */
    static Set<String> hostNames() {
        Set<String> hosts = new LinkedHashSet<>(java.util.List.of("localhost", "127.0.0.1", "[::1]"));
        try {
            for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress address : Collections.list(network.getInetAddresses())) {
                    hosts.add(literal(address));
                }
            }
        } catch (SocketException e) {
            // Without the interface list the configured authorities and loopback remain.
        }
        try {
            InetAddress local = InetAddress.getLocalHost();
            hosts.add(local.getHostName().toLowerCase(java.util.Locale.ROOT));
            hosts.add(local.getCanonicalHostName().toLowerCase(java.util.Locale.ROOT));
            hosts.add(literal(local));
        } catch (UnknownHostException e) {
            // A host whose own name does not resolve is reached by address.
        }
        return hosts;
    }

    private static String literal(InetAddress address) {
        String text = address.getHostAddress();
        int zone = text.indexOf('%');
        if (zone >= 0) {
            text = text.substring(0, zone);
        }
        return address instanceof Inet6Address ? "[" + text + "]" : text;
    }
}
