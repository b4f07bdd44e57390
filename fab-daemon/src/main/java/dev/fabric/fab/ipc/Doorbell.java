package dev.fabric.fab.ipc;

import dev.fabric.fab.posix.Libc;
import dev.fabric.posix.PosixException;
import sun.misc.Signal;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Receives the messages of one process as POSIX signals and sends messages to others with kill(2).
 * Handlers only enqueue: the process's own loop reads the IPC files, so a ring that arrives while
 * the previous one is being handled is simply one more wake-up, and merged rings lose nothing.
 * Every exchange is logged (the IPC log category) through {@code log}.
 */
public final class Doorbell {
    private final String self;
    private final BlockingQueue<Message> rings = new LinkedBlockingQueue<>();
    private final Consumer<String> log;

    /** Installs handlers for {@code accepted}; call before publishing this process's pid. */
    public Doorbell(String self, List<Message> accepted, Consumer<String> log) {
        this.self = self;
        this.log = log;
        for (Message m : accepted) {
            // The handler only enqueues; the loop logs what it takes (it knows by then whether +IPC is on).
            Signal.handle(new Signal(m.signalName()), s -> rings.add(m));
        }
    }

    /** The next message, or null after {@code millis} without one. */
    public Message next(long millis) throws InterruptedException {
        return rings.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Logs a message this process took from its queue. */
    public void received(Message m) {
        log.accept(self + " <- " + Message.name(m) + " (SIG" + m.signalName() + ")");
    }

    /** Re-queues a message this process cannot handle yet. */
    public void requeue(Message m) {
        rings.add(m);
    }

    /** Rings {@code pid} ({@code who} names it in the log); false when it is gone or may not be signalled. */
    public boolean ring(String who, int pid, Message m) {
        return ring(who, pid, m, Libc::kill);
    }

    /** How a ring reaches its process: kill(2), or kill(2) with other credentials (faba to fabd). */
    @FunctionalInterface
    public interface Sender {
        void send(int pid, int signal);
    }

    /** Rings {@code pid} through {@code sender}; false when it is gone or may not be signalled. */
    public boolean ring(String who, int pid, Message m, Sender sender) {
        try {
            sender.send(pid, m.signalNumber());
            log.accept(self + " -> " + who + " " + pid + " " + Message.name(m) + " (SIG" + m.signalName() + ")");
            return true;
        } catch (PosixException e) {
            log.accept(self + " -> " + who + " " + pid + " " + Message.name(m) + " not delivered: " + e.getMessage());
            return false;
        }
    }
}
