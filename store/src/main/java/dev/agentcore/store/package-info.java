/** Durable R2DBC implementation of the agent store: H2 file by default, PostgreSQL for replicas (not yet built). */
package dev.agentcore.store;
