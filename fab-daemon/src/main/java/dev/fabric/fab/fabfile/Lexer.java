package dev.fabric.fab.fabfile;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a fabfile into tokens. A fabfile is UTF-8 text; any other byte, and any control character
 * but tab, line feed and carriage return, is an illegal byte (exit 5, ILLBYTE).
 */
public final class Lexer {
    private final String file;
    private final String text;
    private int pos;
    private int line = 1;
    private int col = 1;

    private Lexer(String file, String text) {
        this.file = file;
        this.text = text;
    }

    /** Tokens of {@code bytes}, ending with an EOF token. */
    public static List<Token> tokenize(String file, byte[] bytes) {
        return new Lexer(file, decode(file, bytes)).run();
    }

    static String decode(String file, byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            int bad = firstInvalidUtf8(bytes);
            int[] lc = lineCol(bytes, bad);
            throw new FabException(ExitStatus.ILLBYTE, "%s:%d:%d: illegal byte 0x%02x: a fabfile is UTF-8 text"
                    .formatted(file, lc[0], lc[1], bytes[bad] & 0xff));
        }
        int line = 1;
        int col = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                throw new FabException(ExitStatus.ILLBYTE, "%s:%d:%d: illegal byte 0x%02x: control characters other than tab, line feed and carriage return are not allowed"
                        .formatted(file, line, col, (int) c));
            }
            if (c == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return text;
    }

    /** Offset of the first byte that does not start a valid UTF-8 sequence. */
    private static int firstInvalidUtf8(byte[] bytes) {
        int i = 0;
        while (i < bytes.length) {
            int b = bytes[i] & 0xff;
            int need;
            if (b < 0x80) {
                i++;
                continue;
            } else if (b >= 0xc2 && b <= 0xdf) {
                need = 1;
            } else if (b >= 0xe0 && b <= 0xef) {
                need = 2;
            } else if (b >= 0xf0 && b <= 0xf4) {
                need = 3;
            } else {
                return i;
            }
            if (i + need >= bytes.length) {
                return i;
            }
            try {
                StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, i, need + 1));
            } catch (CharacterCodingException e) {
                return i;
            }
            i += need + 1;
        }
        return Math.max(0, bytes.length - 1);
    }

    private static int[] lineCol(byte[] bytes, int offset) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < offset; i++) {
            if (bytes[i] == '\n') {
                line++;
                col = 1;
            } else if ((bytes[i] & 0xc0) != 0x80) {
                col++;
            }
        }
        return new int[] {line, col};
    }

    private List<Token> run() {
        List<Token> tokens = new ArrayList<>();
        while (true) {
            skipBlanksAndComments();
            if (pos >= text.length()) {
                tokens.add(new Token(Token.Kind.EOF, "", line, col));
                return tokens;
            }
            int startLine = line;
            int startCol = col;
            char c = text.charAt(pos);
            switch (c) {
                case '[' -> tokens.add(single(Token.Kind.LBRACKET, startLine, startCol));
                case ']' -> tokens.add(single(Token.Kind.RBRACKET, startLine, startCol));
                case '(' -> tokens.add(single(Token.Kind.LPAREN, startLine, startCol));
                case ')' -> tokens.add(single(Token.Kind.RPAREN, startLine, startCol));
                case '{' -> tokens.add(formula(startLine, startCol));
                case '}' -> throw new FabException(ExitStatus.SYNTAX, "%s:%d:%d: expected a statement (`$name = [...]`, `[targets] : [sources]` or `+[path]`), found `}` without a matching `{`"
                        .formatted(file, startLine, startCol));
                default -> {
                    if (c == '+' && pos + 1 < text.length() && text.charAt(pos + 1) == '[') {
                        advance();
                        advance();
                        tokens.add(new Token(Token.Kind.INVOKE, "+[", startLine, startCol));
                    } else {
                        String word = word();
                        Token.Kind kind = switch (word) {
                            case ":" -> Token.Kind.COLON;
                            case "=" -> Token.Kind.ASSIGN;
                            case "+=" -> Token.Kind.APPEND;
                            case "->" -> Token.Kind.ARROW;
                            default -> Token.Kind.WORD;
                        };
                        tokens.add(new Token(kind, word, startLine, startCol));
                    }
                }
            }
        }
    }

    private Token single(Token.Kind kind, int l, int c) {
        String s = String.valueOf(text.charAt(pos));
        advance();
        return new Token(kind, s, l, c);
    }

    private Token formula(int startLine, int startCol) {
        advance();
        int depth = 1;
        int start = pos;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
                if (depth == 0) {
                    String body = text.substring(start, pos);
                    advance();
                    return new Token(Token.Kind.FORMULA, body, startLine, startCol);
                }
            }
            advance();
        }
        throw new FabException(ExitStatus.SYNTAX, "%s:%d:%d: expected `}` to close the formula opened here, found end of file"
                .formatted(file, startLine, startCol));
    }

    private String word() {
        int start = pos;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (Character.isWhitespace(c) || c == '[' || c == ']' || c == '{' || c == '}' || c == '(' || c == ')' || c == '#') {
                break;
            }
            advance();
        }
        return text.substring(start, pos);
    }

    private void skipBlanksAndComments() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    advance();
                }
            } else if (Character.isWhitespace(c)) {
                advance();
            } else {
                return;
            }
        }
    }

    private void advance() {
        if (text.charAt(pos) == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
        pos++;
    }
}
