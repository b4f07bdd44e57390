package dev.fabric.core.spring;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * A request whose body is read in full (up to a limit) when {@link #body()} is first called, so its
 * digest can be checked before the application reads it, and which replays those bytes to the
 * application. Nothing is read until then: the filter calls it only once the signature's header
 * fields have passed.
 */
final class CachedBodyRequest extends HttpServletRequestWrapper {

    /** The body is larger than the limit. */
    static final class TooLargeException extends IOException {
        TooLargeException(long limit) {
            super("the request body exceeds " + limit + " bytes");
        }
    }

    private final long limit;
    private byte[] body;

    CachedBodyRequest(HttpServletRequest request, long limit) {
        super(request);
        this.limit = limit;
    }

    /** Whether the request says a body follows: a positive {@code Content-Length}, or a chunked one. */
    boolean bodyAnnounced() {
        return getRequest().getContentLengthLong() > 0 || ((HttpServletRequest) getRequest()).getHeader("Transfer-Encoding") != null;
    }

    /** The body, read on the first call. */
    byte[] body() throws IOException {
        if (body == null) {
            body = read();
        }
        return body;
    }

    private byte[] read() throws IOException {
        if (getRequest().getContentLengthLong() > limit) {
            throw new TooLargeException(limit);
        }
        try (InputStream in = getRequest().getInputStream()) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (bytes.length > limit) {
                throw new TooLargeException(limit);
            }
            return bytes;
        }
    }

    private byte[] buffered() {
        if (body == null) {
            throw new IllegalStateException("the body is read only after the signature's header fields were verified");
        }
        return body;
    }

    @Override
    public ServletInputStream getInputStream() {
        ByteArrayInputStream in = new ByteArrayInputStream(buffered());
        return new ServletInputStream() {
            @Override
            public int read() {
                return in.read();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return in.read(b, off, len);
            }

            @Override
            public boolean isFinished() {
                return in.available() == 0;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener listener) {
                throw new UnsupportedOperationException("the body is already buffered");
            }
        };
    }

    @Override
    public BufferedReader getReader() {
        String encoding = getCharacterEncoding();
        Charset charset = encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding);
        return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(buffered()), charset));
    }

    @Override
    public int getContentLength() {
        return buffered().length;
    }

    @Override
    public long getContentLengthLong() {
        return buffered().length;
    }
}
