/**
 * agentcore's core: the lifecycle model, the reporter with its replay and resume rules, and the
 * control plane's semantics. {@code dev.agentcore.core.internal} is not exported.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // reactor, micrometer: stable Automatic-Module-Names
module dev.agentcore.core {
    requires transitive reactor.core;
    requires transitive org.reactivestreams;
    requires transitive micrometer.core;
    requires org.slf4j;

    exports dev.agentcore.core;
    exports dev.agentcore.core.agent;
    exports dev.agentcore.core.control;
}
