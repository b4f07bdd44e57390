package dev.fabric.spawner.launch;

/** How an incarnation ended, as its launcher observed it. */
public sealed interface LaunchOutcome {

    /** A short human account, recorded as the reason of the member's state change. */
    String describe();

    /** The process exited with a status (Kubernetes: the container's exit code). */
    record Exited(int code) implements LaunchOutcome {
        @Override
        public String describe() {
            return "exited with status " + code;
        }
    }

    /** The process was killed by a signal (e.g. 9 for kill -9; Kubernetes: OOMKilled is reported here with 9). */
    record Killed(int signal, String detail) implements LaunchOutcome {
        @Override
        public String describe() {
            return "killed by signal " + signal + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    /** The launcher could not keep it running: image pull failure, crash loop, unschedulable, deleted. */
    record Failed(String reason) implements LaunchOutcome {
        @Override
        public String describe() {
            return reason;
        }
    }

    /** Stopped on the spawner's request. */
    record Stopped() implements LaunchOutcome {
        @Override
        public String describe() {
            return "stopped by its spawner";
        }
    }

    /** The member ended, but how is unknown (an adopted process that was not our child). */
    record Vanished() implements LaunchOutcome {
        @Override
        public String describe() {
            return "ended (exit status unknown: adopted after a spawner restart)";
        }
    }
}
