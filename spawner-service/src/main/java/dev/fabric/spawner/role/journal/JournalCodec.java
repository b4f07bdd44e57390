package dev.fabric.spawner.role.journal;

/**
 * What one role's journal holds: its magic, and how a record becomes a frame's payload and back.
 * The frames around the payloads, their checksums, torn tails and the file itself are the
 * {@link Journal}'s, the same for every role (layout in {@link JournalEncoder}).
 *
 * @param <R> the role's record type (a sealed interface of records)
 */
public interface JournalCodec<R> {

    /** Whose journal it is, in messages and logs: {@code queue} makes "the queue journal". */
    String owner();

    /** The 4 bytes every journal of this kind starts with. */
    byte[] magic();

    /** The smallest payload a frame of this journal may carry; anything shorter is corruption. */
    int minPayloadBytes();

    /** The largest payload a frame of this journal may carry; anything longer is corruption. */
    int maxPayloadBytes();

    /**
     * A record's payload.
     *
     * @throws IllegalArgumentException when the record cannot be journaled (a body over the limit)
     */
    byte[] encode(R record);

    /**
     * The record a payload (whose checksum was good) holds.
     *
     * @param offset where its frame starts, for the message of the exception
     * @throws JournalCorruptException when the payload makes no sense (an unknown kind, a wrong length)
     */
    R decode(byte[] payload, long offset) throws JournalCorruptException;
}
