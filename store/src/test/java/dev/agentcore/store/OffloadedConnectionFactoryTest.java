package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ValidationDepth;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class OffloadedConnectionFactoryTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private final AtomicLong nanoTime = new AtomicLong();
    private final AtomicInteger driverValidations = new AtomicInteger();
    private final CountingFactory driver = new CountingFactory(new H2ConnectionFactory(H2ConnectionConfiguration.builder()
            .inMemory("offloaded-" + UUID.randomUUID()).property("DB_CLOSE_DELAY", "-1").build()));
    private final OffloadedConnectionFactory factory =
            new OffloadedConnectionFactory(driver, Schedulers.boundedElastic(), nanoTime::get);
    private Connection connection;

    @AfterEach
    void close() {
        if (connection != null) {
            StepVerifier.create(connection.close()).expectComplete().verify(DEADLINE);
        }
    }

    @Test
    void aLocalValidationWithinTheValidityOfTheDriversLastAnswerRunsNoQuery() {
        connection = Mono.from(factory.create()).block(DEADLINE);

        validate(ValidationDepth.LOCAL, true);
        nanoTime.addAndGet(OffloadedConnectionFactory.VALIDATION_VALID_FOR.toNanos() - 1);
        validate(ValidationDepth.LOCAL, true);
        validate(ValidationDepth.LOCAL, true);

        assertThat(driverValidations).hasValue(1);
    }

    @Test
    void aLocalValidationAfterTheValidityAsksTheDriverAgain() {
        connection = Mono.from(factory.create()).block(DEADLINE);

        validate(ValidationDepth.LOCAL, true);
        nanoTime.addAndGet(OffloadedConnectionFactory.VALIDATION_VALID_FOR.toNanos());
        validate(ValidationDepth.LOCAL, true);

        assertThat(driverValidations).hasValue(2);
    }

    @Test
    void aRemoteValidationAlwaysAsksTheDriver() {
        connection = Mono.from(factory.create()).block(DEADLINE);

        validate(ValidationDepth.LOCAL, true);
        validate(ValidationDepth.REMOTE, true);
        validate(ValidationDepth.REMOTE, true);

        assertThat(driverValidations).hasValue(3);
    }

    @Test
    void aSessionClosedUnderThePoolIsFoundOnceTheValidityHasPassed() {
        connection = Mono.from(factory.create()).block(DEADLINE);
        validate(ValidationDepth.LOCAL, true);

        // The session ends as if the database had been closed under it (not through this wrapper).
        StepVerifier.create(driver.lastCreated.close()).expectComplete().verify(DEADLINE);
        nanoTime.addAndGet(OffloadedConnectionFactory.VALIDATION_VALID_FOR.toNanos());

        validate(ValidationDepth.LOCAL, false);
        validate(ValidationDepth.LOCAL, false);
        assertThat(driverValidations).as("an invalid answer is never kept").hasValue(3);
        connection = null;
    }

    private void validate(ValidationDepth depth, boolean expected) {
        StepVerifier.create(connection.validate(depth)).expectNext(expected).expectComplete().verify(DEADLINE);
    }

    /** The driver's factory, counting the validations its connections answer. */
    private final class CountingFactory implements ConnectionFactory {
        private final ConnectionFactory delegate;
        private volatile Connection lastCreated;

        CountingFactory(ConnectionFactory delegate) {
            this.delegate = delegate;
        }

        @Override
        public Publisher<? extends Connection> create() {
            return Mono.from(delegate.create()).map(real -> {
                lastCreated = real;
                return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                        new Class<?>[] {Connection.class}, (proxy, method, arguments) -> {
                            if (method.getName().equals("validate")) {
                                driverValidations.incrementAndGet();
                            }
                            try {
                                return method.invoke(real, arguments);
                            } catch (InvocationTargetException thrown) {
                                throw thrown.getCause();
                            }
                        });
            });
        }

        @Override
        public ConnectionFactoryMetadata getMetadata() {
            return delegate.getMetadata();
        }
    }
}
