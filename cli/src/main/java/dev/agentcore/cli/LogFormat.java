package dev.agentcore.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import org.slf4j.LoggerFactory;

/** How log lines look on stderr: {@code text} for people (logback.xml), {@code json} for log collectors (logback-json.xml). */
enum LogFormat {
    TEXT("logback.xml"),
    JSON("logback-json.xml");

    private final String configuration;

    LogFormat(String configuration) {
        this.configuration = configuration;
    }

    /** Reconfigures Logback for this format; nothing to do for text, which Logback read at startup. */
    void apply() {
        if (this == TEXT || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        URL resource = LogFormat.class.getClassLoader().getResource(configuration);
        if (resource == null) {
            throw new CommandFailure("the log configuration " + configuration + " is missing from the jar");
        }
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(resource);
        } catch (JoranException e) {
            throw new CommandFailure("cannot configure JSON logs: " + e.getMessage());
        }
    }
}
