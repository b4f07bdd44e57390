package dev.fabric.core.keys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Base64;
import java.util.Set;

/**
 * The fabric keys: the Ed25519 key pair that the spawner holds and hands to every member it
 * bootstraps. Every management request of the fabric is signed with the private key; every member
 * verifies with the public key.
 *
 * <p>On disk the pair is two PEM files in one directory: {@value #PRIVATE_KEY_FILE} (PKCS#8 version 1,
 * RFC 5208, mode 0600) and {@value #PUBLIC_KEY_FILE} (SPKI), the forms OpenSSL and other standard
 * tools read. Private keys written by earlier releases as RFC 5958 version 2 (the public key
 * appended) still load. A Kubernetes Secret with the keys {@code fabric.key}
 * and {@code fabric.pub}, mounted as a volume, has the same layout.
 *
 * <p>{@link #toString()} never shows key material.
 */
public final class FabricKeys {

    public static final String PRIVATE_KEY_FILE = "fabric.key";
    public static final String PUBLIC_KEY_FILE = "fabric.pub";

    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final String keyId;

    private FabricKeys(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.keyId = keyIdOf(publicKey);
        requireMatchingPair(privateKey, publicKey);
    }

    /** Generates a fresh key pair. */
    public static FabricKeys generate() {
        try {
            KeyPair pair = Ed25519.generate();
            return new FabricKeys(pair.getPrivate(), pair.getPublic());
        } catch (IllegalStateException e) {
            throw new FabricKeysException("this JVM cannot generate Ed25519 keys", e);
        }
    }

    /**
     * Builds the pair from PKCS#8 (version 1, or version 2 as earlier releases wrote it) and SPKI DER
     * bytes; fails when they do not belong together.
     */
    public static FabricKeys fromDer(byte[] pkcs8PrivateKey, byte[] spkiPublicKey) {
        try {
            return new FabricKeys(Ed25519.privateKey(pkcs8PrivateKey), Ed25519.publicKey(spkiPublicKey));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new FabricKeysException("not an Ed25519 key pair (PKCS#8 private key, SPKI public key)", e);
        }
    }

    /** Builds the pair from PEM text ({@code PRIVATE KEY} and {@code PUBLIC KEY} blocks). */
    public static FabricKeys fromPem(String privateKeyPem, String publicKeyPem) {
        try {
            return fromDer(Pem.decode(privateKeyPem, "PRIVATE KEY"), Pem.decode(publicKeyPem, "PUBLIC KEY"));
        } catch (IllegalArgumentException e) {
            throw new FabricKeysException("cannot read the fabric keys: " + e.getMessage(), e);
        }
    }

    /** Reads an Ed25519 public key from SPKI PEM text. */
    public static PublicKey publicKeyFromPem(String publicKeyPem) {
        try {
            return Ed25519.publicKey(Pem.decode(publicKeyPem, "PUBLIC KEY"));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new FabricKeysException("not an Ed25519 public key in PEM: " + e.getMessage(), e);
        }
    }

    /**
     * Loads the pair from a directory this process wrote: the private key file must be readable by
     * its owner only (0600 or stricter), as {@link #writeTo(Path)} leaves it.
     */
    public static FabricKeys load(Path directory) {
        Path privateFile = directory.resolve(PRIVATE_KEY_FILE);
        requireOwnerOnly(privateFile);
        return read(directory);
    }

    /**
     * Loads the pair from a mounted Kubernetes Secret (keys {@code fabric.key} and {@code fabric.pub}).
     * The kubelet sets the files' mode from the volume's {@code defaultMode} and links them through
     * {@code ..data}; both are accepted as they are, since the Secret's RBAC guards the material.
     */
    public static FabricKeys loadSecretMount(Path mountDirectory) {
        return read(mountDirectory);
    }

    /** Loads the pair when the directory holds it, else generates one and writes it there. */
    public static FabricKeys loadOrGenerate(Path directory) {
        if (Files.exists(directory.resolve(PRIVATE_KEY_FILE))) {
            return load(directory);
        }
        FabricKeys keys = generate();
        keys.writeTo(directory);
        return keys;
    }

    private static FabricKeys read(Path directory) {
        Path privateFile = directory.resolve(PRIVATE_KEY_FILE);
        Path publicFile = directory.resolve(PUBLIC_KEY_FILE);
        try {
            return fromPem(Files.readString(privateFile, StandardCharsets.US_ASCII),
                    Files.readString(publicFile, StandardCharsets.US_ASCII));
        } catch (NoSuchFileException e) {
            throw new FabricKeysException("missing fabric key file " + e.getFile()
                    + ": a fabric key directory holds " + PRIVATE_KEY_FILE + " and " + PUBLIC_KEY_FILE, e);
        } catch (IOException e) {
            throw new FabricKeysException("cannot read the fabric keys in " + directory + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the pair into the directory (created 0700 when absent): the private key with mode 0600
     * from the moment it exists, the public key 0644. Existing files are replaced atomically.
     */
    public void writeTo(Path directory) {
        try {
            if (!Files.isDirectory(directory)) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            }
            writeAtomically(directory, PRIVATE_KEY_FILE, privateKeyPem(), OWNER_ONLY_FILE);
            writeAtomically(directory, PUBLIC_KEY_FILE, publicKeyPem(), PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException e) {
            throw new FabricKeysException("cannot write the fabric keys to " + directory + ": " + e.getMessage(), e);
        }
    }

    private static void writeAtomically(Path directory, String name, String content, Set<PosixFilePermission> mode)
            throws IOException {
        Path temp = directory.resolve("." + name + ".tmp");
        Files.deleteIfExists(temp);
        try {
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(mode));
        } catch (FileAlreadyExistsException e) {
            throw new IOException("another writer is writing " + temp, e);
        }
        // createFile honours the umask; set the mode explicitly as well.
        Files.setPosixFilePermissions(temp, mode);
        Files.writeString(temp, content, StandardCharsets.US_ASCII);
        try {
            Files.move(temp, directory.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, directory.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void requireOwnerOnly(Path privateFile) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(privateFile);
            for (PosixFilePermission permission : mode) {
                if (!permission.name().startsWith("OWNER_")) {
                    throw new FabricKeysException("the fabric private key " + privateFile + " is readable by others (mode "
                            + PosixFilePermissions.toString(mode) + "); run: chmod 600 " + privateFile);
                }
            }
        } catch (NoSuchFileException e) {
            throw new FabricKeysException("missing fabric key file " + privateFile
                    + ": a fabric key directory holds " + PRIVATE_KEY_FILE + " and " + PUBLIC_KEY_FILE, e);
        } catch (IOException e) {
            throw new FabricKeysException("cannot inspect " + privateFile + ": " + e.getMessage(), e);
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: nothing to check.
        }
    }

    private static void requireMatchingPair(PrivateKey privateKey, PublicKey publicKey) {
        try {
            byte[] probe = "fabric-keys-pair-check".getBytes(StandardCharsets.US_ASCII);
            if (!Ed25519.verify(publicKey, probe, Ed25519.sign(privateKey, probe))) {
                throw new FabricKeysException("the fabric public key does not belong to the private key");
            }
        } catch (GeneralSecurityException e) {
            throw new FabricKeysException("the fabric keys are not a usable Ed25519 pair", e);
        }
    }

    /**
     * The key id carried in every signature's {@code keyid} parameter: the unpadded base64url
     * SHA-256 of the public key's SPKI encoding.
     */
    public static String keyIdOf(PublicKey publicKey) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(publicKey.getEncoded());
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    /** See {@link #keyIdOf(PublicKey)}. */
    public String keyId() {
        return keyId;
    }

    /**
     * The private key as PKCS#8 version 1 DER, the form {@code openssl pkey} and every PKCS#8 reader
     * accept. Handle with care: never log it.
     */
    public byte[] privateKeyDer() {
        return Ed25519.pkcs8(privateKey);
    }

    /** The private key as PKCS#8 (version 1) PEM. Handle with care: never log it. */
    public String privateKeyPem() {
        return Pem.encode("PRIVATE KEY", privateKeyDer());
    }

    /** The public key as SPKI PEM. */
    public String publicKeyPem() {
        return Pem.encode("PUBLIC KEY", publicKey.getEncoded());
    }

    @Override
    public String toString() {
        return "FabricKeys[keyId=" + keyId + "]";
    }
}
