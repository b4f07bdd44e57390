package dev.fabric.spawner.reach;

import java.util.List;
import java.util.Objects;

/**
 * What travels over a member's reverse channel to its bridge (docs/connectivity.md, "The wire"):
 * one WebSocket binary message per frame. The bridge says who it is once the channel opens, then
 * sends the requests callers made for the member; the member answers each under its id.
 *
 * <pre>
 *   bridge                         member
 *     |  &lt;-- GET /bridge/v1/channel (signed, upgrade)
 *     |  Welcome(bridgeId) --&gt;
 *     |  Request(1, GET, http://member:port/...) --&gt;
 *     |  &lt;-- Response(1, 200, ...)
 * </pre>
 */
public sealed interface RelayFrame {

    /** The first frame on a channel: the bridge member's id, which the member records as its {@code via}. */
    record Welcome(String bridgeId) implements RelayFrame {
        public Welcome {
            Objects.requireNonNull(bridgeId, "bridgeId");
        }
    }

    /**
     * A caller's request, exactly as it reached the bridge: its absolute target (the member's own
     * URL, which its signature covers), its header fields and its body.
     */
    record Request(long id, String method, String target, List<Header> headers, byte[] body) implements RelayFrame {
        public Request {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(target, "target");
            headers = List.copyOf(headers);
        }
    }

    /** The member's answer to request {@code id}. */
    record Response(long id, int status, List<Header> headers, byte[] body) implements RelayFrame {
        public Response {
            headers = List.copyOf(headers);
        }
    }

    /** One header field line. */
    record Header(String name, String value) {
        public Header {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }
}
