global using NUnit.Framework;
global using ProvenanceGate.Tests.Infrastructure;
