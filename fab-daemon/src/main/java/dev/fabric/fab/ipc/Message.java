package dev.fabric.fab.ipc;

/**
 * The signals fab's processes exchange (the command and build-plan messages, the three file-system
 * events, and a child's death), each
 * a doorbell: the data travels in the IPC files, so when the kernel merges two deliveries of one
 * classic signal nothing is lost, the receiver reads the files once and finds everything.
 * <p>
 * Mapping to POSIX signals (every one handled with {@code sun.misc.Signal}, sent with {@code kill(2)}):
 * <pre>
 * START          USR1    fab -> faba -> fabd   a new command is in args
 * DONE           USR2    fabd -> faba, faba -> fab   fabd/exit holds the status
 * BPSTART        WINCH   fabd -> faba          bp/stages names the stage to run
 * BPGOOD         URG     faba -> fabd          every command of the stage succeeded
 * BPBAD          IO      faba -> fabd          a command of the stage failed (or was aborted)
 * REINTERPRET    PWR     faba -> fabd          files appeared or vanished: patterns may match anew
 * REPLAN         ALRM    faba -> fabd          files changed: the listed ones must be re-hashed
 * REEXEC         VTALRM  faba -> fabd          a fabfile changed: fabd must be re-executed
 * CHILD_DIED     CHLD    fabw -> fab           fabw's child (fabd or faba) ended: stop waiting
 * </pre>
 * HotSpot reserves QUIT (thread dumps), and INT, TERM and HUP run shutdown hooks, so none of those
 * carries a message; the ones chosen are free in the JVM and never sent by the kernel to a daemon
 * without a terminal (WINCH, URG and CHLD are even ignored by default, so an early ring cannot kill
 * a process that has not installed its handlers yet; every process publishes its pid only after it did).
 */
public sealed interface Message {
    /** The signal's name as {@code sun.misc.Signal} and {@code kill -s} know it. */
    String signalName();

    /** The signal's number on Linux. */
    int signalNumber();

    record Start() implements Message {
        public String signalName() {
            return "USR1";
        }

        public int signalNumber() {
            return 10;
        }
    }

    record Done() implements Message {
        public String signalName() {
            return "USR2";
        }

        public int signalNumber() {
            return 12;
        }
    }

    record BpStart() implements Message {
        public String signalName() {
            return "WINCH";
        }

        public int signalNumber() {
            return 28;
        }
    }

    record BpGood() implements Message {
        public String signalName() {
            return "URG";
        }

        public int signalNumber() {
            return 23;
        }
    }

    record BpBad() implements Message {
        public String signalName() {
            return "IO";
        }

        public int signalNumber() {
            return 29;
        }
    }

    record Reinterpret() implements Message {
        public String signalName() {
            return "PWR";
        }

        public int signalNumber() {
            return 30;
        }
    }

    record Replan() implements Message {
        public String signalName() {
            return "ALRM";
        }

        public int signalNumber() {
            return 14;
        }
    }

    record Reexec() implements Message {
        public String signalName() {
            return "VTALRM";
        }

        public int signalNumber() {
            return 26;
        }
    }

    record ChildDied() implements Message {
        public String signalName() {
            return "CHLD";
        }

        public int signalNumber() {
            return 17;
        }
    }

    Message START = new Start();
    Message DONE = new Done();
    Message BPSTART = new BpStart();
    Message BPGOOD = new BpGood();
    Message BPBAD = new BpBad();
    Message REINTERPRET = new Reinterpret();
    Message REPLAN = new Replan();
    Message REEXEC = new Reexec();
    Message CHILD_DIED = new ChildDied();

    /** A message's name in the IPC log ({@code fab +IPC}) and in docs/fab.md's signal table. */
    static String name(Message m) {
        return switch (m) {
            case Start s -> "START";
            case Done d -> "DONE";
            case BpStart b -> "BPSTART";
            case BpGood b -> "BPGOOD";
            case BpBad b -> "BPBAD";
            case Reinterpret r -> "REINTERPRET";
            case Replan r -> "REPLAN";
            case Reexec r -> "REEXEC";
            case ChildDied c -> "CHILD_DIED";
        };
    }
}
