/**
 * agentcore's test kit: test an agent runtime's reporting with StepVerifier and virtual time, in
 * one JVM and without sockets. {@link dev.agentcore.test.TestControlPlane} is a control plane
 * with agentcore's own rules on an in-memory store; its {@link dev.agentcore.test.TestConnector}
 * stands in for the transport's connector and hands the runtime
 * {@link dev.agentcore.test.TestSession}s that can be cut, refuse updates, or acknowledge slowly;
 * {@link dev.agentcore.test.SchedulerClock} makes the runtime's clock follow virtual time.
 */
package dev.agentcore.test;
