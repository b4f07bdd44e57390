package dev.fabric.core.keys;

import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** PEM text (RFC 7468) around DER bytes: {@code PRIVATE KEY} (PKCS#8) and {@code PUBLIC KEY} (SPKI). */
public final class Pem {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");

    private Pem() {}

    /** Encodes DER bytes as one PEM block with 64-character lines. */
    public static String encode(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /**
     * Decodes the first PEM block of the given type found in the text.
     *
     * @throws IllegalArgumentException when there is no such block or its base64 is broken
     */
    public static byte[] decode(String text, String type) {
        Matcher matcher = BLOCK.matcher(text);
        while (matcher.find()) {
            if (matcher.group(1).equals(type)) {
                try {
                    return Base64.getMimeDecoder().decode(matcher.group(2));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("the PEM block '" + type + "' holds invalid base64", e);
                }
            }
        }
        throw new IllegalArgumentException("no PEM block '" + type + "' found");
    }
}
