package dev.fabric.core.signature;

import java.time.Instant;
import java.util.List;

/** A request whose signature the fabric accepted: who signed it (by key id), when, and what it covers. */
public record VerifiedRequest(String keyId, String label, Instant created, String nonce, List<String> coveredComponents) {}
