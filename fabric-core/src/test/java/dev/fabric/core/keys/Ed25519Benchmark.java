package dev.fabric.core.keys;

import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Random;

/**
 * On-demand benchmark, never part of the test suite (surefire runs {@code *Test} classes only):
 * {@code ./mvnw -o -pl fabric-core test -Dtest=Ed25519Benchmark -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.operations=20000 -Dbench.rounds=3}).
 *
 * <p>Microseconds per Ed25519 signature and verification, in one JVM and interleaved round by round:
 * the JDK's own (SunEC), Bouncy Castle's JCA provider (what {@link Ed25519} used before) and
 * {@link Ed25519} (Bouncy Castle's lightweight signer). Same key, same 200-byte message (a
 * heartbeat's signature base), after a warm-up of as many operations. Median of the rounds; figures
 * go to stdout and {@code target/benchmarks/ed25519.md}.
 */
class Ed25519Benchmark {

    static final int OPERATIONS = Integer.getInteger("bench.operations", 20_000);
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);

    interface Implementation {
        byte[] sign(byte[] data) throws Exception;

        boolean verify(byte[] data, byte[] signature) throws Exception;
    }

    @Test
    void signAndVerify() throws Exception {
        KeyPair pair = Ed25519.generate();
        byte[] data = new byte[200];
        new Random(21).nextBytes(data);
        String[] names = {"JDK 25 (SunEC)", "Bouncy Castle 1.86, JCA provider", "Bouncy Castle 1.86, lightweight (Ed25519)"};
        Implementation[] implementations = {
                jca(pair, "SunEC", null),
                jca(pair, null, new BouncyCastleProvider()),
                new Implementation() {
                    public byte[] sign(byte[] d) throws Exception {
                        return Ed25519.sign(pair.getPrivate(), d);
                    }

                    public boolean verify(byte[] d, byte[] s) throws Exception {
                        return Ed25519.verify(pair.getPublic(), d, s);
                    }
                }};
        byte[] expected = implementations[2].sign(data);
        for (Implementation implementation : implementations) {
            if (!Arrays.equals(implementation.sign(data), expected) || !implementation.verify(data, expected)) {
                throw new AssertionError("the implementations disagree");
            }
            run(implementation, data, expected); // warm-up
        }
        double[][] sign = new double[implementations.length][ROUNDS];
        double[][] verify = new double[implementations.length][ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            for (int i = 0; i < implementations.length; i++) {
                double[] micros = run(implementations[i], data, expected);
                sign[i][round] = micros[0];
                verify[i][round] = micros[1];
            }
        }
        StringBuilder text = new StringBuilder("Ed25519, " + OPERATIONS + " operations each, " + ROUNDS
                + " rounds interleaved, median (rounds):\n\n| implementation | sign µs | verify µs |\n|---|---|---|\n");
        for (int i = 0; i < implementations.length; i++) {
            text.append("| ").append(names[i]).append(" | ").append(summary(sign[i])).append(" | ")
                    .append(summary(verify[i])).append(" |\n");
        }
        System.out.println(text);
        Files.createDirectories(Path.of("target", "benchmarks"));
        Files.writeString(Path.of("target", "benchmarks", "ed25519.md"), text);
    }

    private static double[] run(Implementation implementation, byte[] data, byte[] signature) throws Exception {
        long start = System.nanoTime();
        int sink = 0;
        for (int i = 0; i < OPERATIONS; i++) {
            sink += implementation.sign(data)[0];
        }
        long signed = System.nanoTime();
        for (int i = 0; i < OPERATIONS; i++) {
            sink += implementation.verify(data, signature) ? 1 : 0;
        }
        long verified = System.nanoTime();
        if (sink == Integer.MIN_VALUE) {
            System.out.println(sink);
        }
        return new double[] {(signed - start) / 1e3 / OPERATIONS, (verified - signed) / 1e3 / OPERATIONS};
    }

    private static String summary(double[] rounds) {
        double[] sorted = rounds.clone();
        Arrays.sort(sorted);
        StringBuilder text = new StringBuilder(String.format("%.1f (", sorted[sorted.length / 2]));
        for (int i = 0; i < rounds.length; i++) {
            text.append(i == 0 ? "" : " ").append(String.format("%.1f", rounds[i]));
        }
        return text.append(')').toString();
    }

    private static Implementation jca(KeyPair pair, String providerName, Provider provider) throws Exception {
        KeyFactory factory = provider != null ? KeyFactory.getInstance("Ed25519", provider) : KeyFactory.getInstance("Ed25519", providerName);
        PrivateKey privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(Ed25519.pkcs8(pair.getPrivate())));
        PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(pair.getPublic().getEncoded()));
        return new Implementation() {
            public byte[] sign(byte[] data) throws Exception {
                Signature signature = provider != null ? Signature.getInstance("Ed25519", provider) : Signature.getInstance("Ed25519", providerName);
                signature.initSign(privateKey);
                signature.update(data);
                return signature.sign();
            }

            public boolean verify(byte[] data, byte[] signatureBytes) throws Exception {
                Signature signature = provider != null ? Signature.getInstance("Ed25519", provider) : Signature.getInstance("Ed25519", providerName);
                signature.initVerify(publicKey);
                signature.update(data);
                return signature.verify(signatureBytes);
            }
        };
    }
}
