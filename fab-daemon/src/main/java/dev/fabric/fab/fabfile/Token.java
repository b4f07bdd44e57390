package dev.fabric.fab.fabfile;

/** One lexical token of a fabfile, with the 1-based line and column where it starts. */
public record Token(Kind kind, String text, int line, int col) {

    public enum Kind {
        LBRACKET("`[`"),
        RBRACKET("`]`"),
        INVOKE("`+[`"),
        LPAREN("`(`"),
        RPAREN("`)`"),
        COLON("`:`"),
        ASSIGN("`=`"),
        APPEND("`+=`"),
        ARROW("`->`"),
        WORD("a word"),
        FORMULA("a formula `{ ... }`"),
        EOF("end of file");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /** The token as a user would recognise it in an error message. */
    public String shown() {
        return switch (kind) {
            case EOF -> "end of file";
            case FORMULA -> "`{" + abbreviate(text) + "}`";
            default -> "`" + text + "`";
        };
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() > 30 ? one.substring(0, 30) + "..." : one;
    }
}
