// The pax archive library: placeholder until it lands.
import CCCICore
