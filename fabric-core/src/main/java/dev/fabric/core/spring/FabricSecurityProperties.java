package dev.fabric.core.spring;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code fabric.security.*}: where the fabric keys are and how signed requests are verified.
 *
 * @param keysPath directory holding {@code fabric.key} and {@code fabric.pub}, written by the fabric
 *     (mode 0600) or a mounted Kubernetes Secret; unset when the application supplies its own
 *     {@code FabricKeys} or {@code KeyResolver} bean
 * @param signature the verification policy for incoming requests
 */
@ConfigurationProperties("fabric.security")
public record FabricSecurityProperties(Path keysPath, @DefaultValue Signature signature) {

    /**
     * @param enabled whether incoming requests must be signed (default true); turning it off is for
     *     local experiments only and is logged as a warning
     * @param openPaths path patterns served without a signature (default: the health probes)
     * @param skew how far a signature's {@code created} may lie from this clock (default 30 s)
     * @param replayCacheCapacity how many live nonces are remembered (default 500,000)
     * @param maxHeaderBytes the largest {@code Signature}/{@code Signature-Input} accepted (default 4 KiB, below the servlet container's own 8 KiB header limit so the answer is a 401 with a reason)
     * @param maxBodySize the largest request body buffered for its digest (default 1 MB); larger is a 413
     * @param authorities the authorities ({@code host:port}, {@code host:*}, or a bare {@code host} on this
     *     service's own ports) this service receives requests under besides those it discovers (its
     *     addresses, host name and bound ports): the names clients use to reach it, such as a Kubernetes
     *     Service's DNS names or a proxy's public name. A request signed for any other authority is
     *     refused ({@code wrong-authority}); {@code *} switches the check off
     */
    public record Signature(
            @DefaultValue("true") boolean enabled,
            @DefaultValue({"/actuator/health", "/actuator/health/**"}) List<String> openPaths,
            @DefaultValue("30s") Duration skew,
            @DefaultValue("500000") int replayCacheCapacity,
            @DefaultValue("4096") int maxHeaderBytes,
            @DefaultValue("1MB") DataSize maxBodySize,
            @DefaultValue List<String> authorities) {}
}
