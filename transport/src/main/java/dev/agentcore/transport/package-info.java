/** RSocket transport for agentcore: protobuf codecs, agent connector, control-plane server (work in progress). */
package dev.agentcore.transport;
