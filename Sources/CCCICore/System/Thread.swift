import Glibc

/// A second thread of execution and a bounded hand-off between two threads, over pthreads.
/// The toolkit is single-threaded except where one stage of a pipeline would otherwise wait for
/// another on the same core (the archive code hashes on one thread while the other reads and
/// writes); these are the only threading primitives it uses.
public final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    /// Wraps pthread_create(3): starts `body` on a new thread.
    public init(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        let r = pthread_create(&thread, nil, { context in
            let me = Unmanaged<WorkerThread>.fromOpaque(context!).takeRetainedValue()
            me.body()
            return nil
        }, context)
        if r != 0 {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            throw SystemError("pthread_create", errno: r)
        }
    }

    /// Wraps pthread_join(3): waits for the body to return.
    public func join() {
        _ = pthread_join(thread, nil)
    }

    /// Wraps pthread_detach(3): the thread cleans up after itself when its body returns.
    public func detach() {
        _ = pthread_detach(thread)
    }
}

/// A first-in first-out queue of at most `capacity` items between one producer and one consumer
/// thread: `put` waits while it is full, `take` while it is empty. `close` wakes both for good:
/// after it, `put` drops its item and `take` answers what is left, then nil.
public final class HandOff<Item>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [Item] = []
    private var head = 0
    private var closed = false
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        changed.deallocate()
    }

    /// Wraps pthread_cond_wait(3) until there is room; false when closed.
    @discardableResult
    public func put(_ item: Item) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !closed && items.count - head >= capacity { pthread_cond_wait(changed, mutex) }
        if closed { return false }
        items.append(item)
        pthread_cond_broadcast(changed)
        return true
    }

    /// Wraps pthread_cond_wait(3) until there is an item; nil when closed and drained.
    public func take() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !closed && head == items.count { pthread_cond_wait(changed, mutex) }
        if head == items.count { return nil }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        pthread_cond_broadcast(changed)
        return item
    }

    public func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}
