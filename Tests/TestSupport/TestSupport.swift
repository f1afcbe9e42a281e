import CCCICore
