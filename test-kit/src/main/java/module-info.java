/** agentcore's test kit: an in-JVM control plane and session doubles for StepVerifier and virtual time. */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // reactor, micrometer: stable Automatic-Module-Names
module dev.agentcore.test {
    requires transitive dev.agentcore.core;
    requires transitive reactor.test;

    exports dev.agentcore.test;
}
