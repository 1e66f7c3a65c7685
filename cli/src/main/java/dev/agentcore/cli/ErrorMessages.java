package dev.agentcore.cli;

import dev.agentcore.core.AgentcoreException;
import io.rsocket.RSocketErrorException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeoutException;

/**
 * What the command line tells a person when something fails: one line, in words, with no
 * exception class names, and every control character escaped so that a name holding a newline
 * or an escape sequence cannot forge or scramble the output.
 */
final class ErrorMessages {

    private ErrorMessages() {
    }

    /** {@code text} on one line: control characters written as {@code \n}, {@code \t} or {@code \u001b}. */
    static String oneLine(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
                        out.append(String.format("\\u%04x", c));
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return out.toString();
    }

    /** What went wrong, in words: the innermost cause that says something a person can act on. */
    static String describe(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            String said = said(cause);
            if (said != null) {
                return oneLine(said);
            }
        }
        return oneLine(error.getMessage() != null ? error.getMessage() : "an unexpected error (see the log)");
    }

    private static String said(Throwable cause) {
        if (cause instanceof CommandFailure || cause instanceof RSocketErrorException) {
            return cause.getMessage();
        }
        if (cause instanceof AgentcoreException refusal) {
            return "the control plane refused: " + refusal.code() + ": " + refusal.getMessage();
        }
        if (cause instanceof UnknownHostException) {
            return "cannot resolve the control plane's host (" + cause.getMessage() + "): check the address";
        }
        if (cause instanceof ConnectException) {
            return "cannot connect: " + cause.getMessage();
        }
        if (cause instanceof javax.net.ssl.SSLHandshakeException handshake) {
            return tlsRefusal(handshake.getMessage());
        }
        if (cause instanceof ClosedChannelException) {
            return "the control plane closed the connection (a TLS control plane closes a plaintext client's: "
                    + "use a tls:// or wss:// address)";
        }
        if (cause instanceof TimeoutException) {
            return "no answer in time: " + cause.getMessage();
        }
        return null;
    }

    /** A failed TLS handshake, in words: which side would not trust the other, and what to do. */
    private static String tlsRefusal(String message) {
        String said = message == null ? "" : message;
        if (said.contains("PKIX path") || said.contains("unable to find valid certification path")) {
            return "the TLS handshake failed: the control plane's certificate is not trusted; pass --tls-ca with it "
                    + "or with the CA that issued it";
        }
        if (said.contains("No subject alternative") || said.contains("No name matching")) {
            return "the TLS handshake failed: the control plane's certificate is not for the host in the address ("
                    + said + ")";
        }
        if (said.contains("bad_certificate") || said.contains("certificate_required")) {
            return "the TLS handshake failed: the control plane wants a client certificate it trusts (mutual TLS): "
                    + "pass --tls-cert and --tls-key";
        }
        return "the TLS handshake failed: " + said;
    }

    /** Why a file could not be read, in words (the JDK's messages often only repeat the path). */
    static String unreadable(Path file, Exception error) {
        String why;
        if (error instanceof NoSuchFileException) {
            why = "no such file";
        } else if (error instanceof AccessDeniedException) {
            why = "permission denied";
        } else if (error instanceof CharacterCodingException) {
            why = "not UTF-8 text";
        } else if (error.getMessage() != null) {
            why = error.getMessage();
        } else {
            why = "cannot be read";
        }
        return oneLine(file + ": " + why);
    }
}
