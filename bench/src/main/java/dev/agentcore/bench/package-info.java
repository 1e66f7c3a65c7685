/** The storm harness ({@code agentcore bench storm}) and the JMH micro-benchmarks ({@code agentcore bench jmh}). */
package dev.agentcore.bench;
